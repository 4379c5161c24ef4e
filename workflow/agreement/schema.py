"""The agreement file's format (config/agreements/*.yaml), validated field by field."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from workflow.addresses import AddressError, parse_address
from workflow.agreement.models import Body, OrganisationKind, Role
from workflow.clock import EARLIEST_DAY, FIRST_YEAR, LAST_YEAR, LATEST_DAY, known_zone
from workflow.i18n import _l
from workflow.plan_language.timing import SchoolTerms, YearlySpan
from workflow.source import MAX_CELL_CHARS, control_character


def _one_line(text: str) -> str:
    if (why := control_character(text)) is not None:
        raise ValueError(why)
    return text


def _prose(text: str) -> str:
    if (why := control_character(text, multiline=True)) is not None:
        raise ValueError(why)
    return text


def _clean_tree(value: Any) -> Any:
    """Every text inside a structured value (a timing) as prose: no NUL or other control."""
    if isinstance(value, str):
        _prose(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _clean_tree(key)
            _clean_tree(item)
    elif isinstance(value, list):
        for item in value:
            _clean_tree(item)
    return value


Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)]
# Names and titles reach mail headers (From, To, Subject, Reply-To): one line, no control characters.
Line = Annotated[str, Field(max_length=MAX_CELL_CHARS), AfterValidator(_one_line)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_CELL_CHARS), AfterValidator(_one_line)]
# Backgrounds, preambles and footnotes may have line breaks; NUL and other controls they may not.
Prose = Annotated[str, Field(max_length=10 * MAX_CELL_CHARS), AfterValidator(_prose)]


# The same check as at delivery (workflow.addresses): what `trygg check` passes, delivery can write.
def _email(text: str) -> str:
    try:
        return parse_address(text).normalized
    except AddressError as exc:
        raise ValueError(_l("invalid email address: %(reason)s", reason=str(exc))) from None


Email = Annotated[str, AfterValidator(_email)]
# Coordinators write `when: 2012` without quotes; it is still the phrase "2012".
Phrase = Annotated[
    str,
    BeforeValidator(lambda v: str(v) if isinstance(v, int) else v),
    Field(max_length=MAX_CELL_CHARS),
    AfterValidator(_one_line),
]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Signed(Strict):
    date: date
    place: Line | None = None


class Period(Strict):
    start: date
    end: date
    # After `end`, the last follow-up may still be chased for this many days; then nothing is sent.
    grace_days: Annotated[int, Field(ge=0, le=365)] = 30

    @field_validator("start", "end")
    @classmethod
    def _within_window(cls, value: date) -> date:
        # Far past the last year, date arithmetic on the period overflows; no agreement runs so long.
        if not EARLIEST_DAY <= value <= LATEST_DAY:
            raise ValueError(
                _l(
                    "%(day)s is outside the years %(first)s–%(last)s",
                    day=value,
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                )
            )
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Period:
        if self.end < self.start:
            raise ValueError(
                _l("the period ends (%(end)s) before it begins (%(start)s)", end=self.end, start=self.start)
            )
        return self


class OrganisationSpec(Strict):
    id: Key
    name: Text
    kind: OrganisationKind
    parent: Key | None = None
    description: Prose | None = None
    aliases: list[Text] = []


class PersonSpec(Strict):
    id: Key
    name: Text
    email: Email
    organisation: Key
    title: Line | None = None
    language: Literal["sv", "en"] = "sv"
    roles: list[Role] = []
    contact: bool = False  # the organisation's contact for its activities (gets reminders)


class SignatorySpec(Strict):
    person: Key
    party: Key
    title: Text


class MembershipSpec(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    person: Key
    mandate: Text
    valid_from: date = Field(alias="from")
    valid_to: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ends_after_start(self) -> MembershipSpec:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(
                _l(
                    "the mandate ends (%(end)s) before it begins (%(start)s)",
                    end=self.valid_to,
                    start=self.valid_from,
                )
            )
        return self


class ReferenceGroupSpec(Strict):
    name: Text
    members: list[MembershipSpec] = []


class CouncilSpec(Strict):
    name: Text
    convened_by: Key
    members: list[MembershipSpec] = Field(min_length=1)
    secretary: Key | None = None
    reference_group: ReferenceGroupSpec | None = None


class Window(Strict):
    start: MonthDay
    end: MonthDay


class StepSpec(Strict):
    number: int = Field(ge=1, le=5)
    key: Literal["facts", "situation_picture", "action_plan", "operations", "evaluation"]
    title: Text
    owners: list[Key] = []
    window: Window


class Recurring(Strict):
    """A meeting rule: the n:th weekday of given months, at a local time."""

    weekday: Weekday
    week_of_month: int = Field(ge=1, le=5)
    time: ClockTime
    duration_minutes: int = Field(gt=0, le=24 * 60)
    location: Line | None = None


class CouncilMeetings(Recurring):
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=1)


class CheckIns(Recurring):
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=2, max_length=2)
    parties: list[Key] = Field(min_length=2)


class YearlyReview(Recurring):
    month: int = Field(ge=1, le=12)
    by: Literal["council"] = "council"


class Evaluation(Recurring):
    month: int = Field(ge=1, le=12)
    report_to: list[Key] = Field(min_length=1)


class CycleSpec(Strict):
    steps: list[StepSpec] = Field(min_length=5, max_length=5)
    council_meetings: CouncilMeetings
    check_ins: CheckIns
    yearly_review: YearlyReview
    evaluation: Evaluation

    @field_validator("steps")
    @classmethod
    def _five_in_order(cls, steps: list[StepSpec]) -> list[StepSpec]:
        if [s.number for s in steps] != [1, 2, 3, 4, 5]:
            raise ValueError(_l("the steps must be numbered 1–5 in order"))
        return steps


def _window_of(span: YearlySpan) -> Window:
    (start_m, start_d), (end_m, end_d) = span.start, span.end
    return Window(start=f"{start_m:02d}-{start_d:02d}", end=f"{end_m:02d}-{end_d:02d}")


class SchoolTermsSpec(Strict):
    # The plan language's defaults (workflow.plan_language.timing.SchoolTerms): one source.
    autumn: Window = _window_of(SchoolTerms().autumn)  # höstterminen
    spring: Window = _window_of(SchoolTerms().spring)  # vårterminen


MAX_HOLIDAY_DAYS = 100  # sommarlov, the longest, is about ten weeks


class HolidaySpec(Strict):
    """One school holiday of one year, as the municipality has it (`{name: sportlov, start: 2026-03-09,
    end: 2026-03-13}`); holidays not given have defaults (workflow.plan_language.timing.SchoolHolidays)."""

    name: Literal["sportlov", "påsklov", "sommarlov", "höstlov", "jullov"]
    start: date
    end: date

    @model_validator(mode="after")
    def _a_plausible_span(self) -> HolidaySpec:
        if self.start > self.end:
            raise ValueError(_l("the holiday ends before it starts"))
        if (self.end - self.start).days >= MAX_HOLIDAY_DAYS:
            raise ValueError(_l("a school holiday is shorter than %(n)s days", n=MAX_HOLIDAY_DAYS))
        if not FIRST_YEAR <= self.start.year <= LAST_YEAR:
            raise ValueError(_l("the year %(year)s is out of range", year=self.start.year))
        return self


class CalendarSpec(Strict):
    """How the plan's dates are read: school terms and holidays, and where a deadline on a day
    off goes."""

    school_terms: SchoolTermsSpec = SchoolTermsSpec()
    holidays: Annotated[list[HolidaySpec], Field(max_length=500)] = []
    deadline_on_day_off: Literal["earlier", "later"] = "earlier"

    @field_validator("holidays")
    @classmethod
    def _once_a_year(cls, holidays: list[HolidaySpec]) -> list[HolidaySpec]:
        seen: set[tuple[str, int]] = set()
        for holiday in holidays:
            key = (holiday.name, holiday.start.year)
            if key in seen:
                raise ValueError(
                    _l(
                        "%(name)s %(year)s is given more than once",
                        name=holiday.name,
                        year=holiday.start.year,
                    )
                )
            seen.add(key)
        return holidays


class QuietWeeks(Strict):
    """ISO weeks in which non-urgent reminders wait (from > to wraps over the new year)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_week: int = Field(alias="from", ge=1, le=53)
    to_week: int = Field(alias="to", ge=1, le=53)


class EscalationStep(Strict):
    after: int = Field(ge=1, le=260)  # working days after the deadline
    to: Literal["owner", "coordinator", "management"]


StageList = Annotated[list[Annotated[int, Field(ge=0, le=260)]], Field(max_length=10)]


class RemindersSpec(Strict):
    """When the engine reminds and escalates; every field has the documented default."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    stages: StageList = [10, 3, 0]  # working days before a deadline
    follow_up_stages: StageList = [3]  # working days before each follow-up of recurring work
    send_at: ClockTime = "08:00"  # local time, on working days
    quiet_weeks: list[QuietWeeks] = [QuietWeeks(from_week=28, to_week=31)]  # the summer holiday
    escalation: list[EscalationStep] = Field(
        default=[
            EscalationStep(after=1, to="owner"),
            EscalationStep(after=5, to="coordinator"),
            EscalationStep(after=10, to="management"),
        ],
        max_length=10,
    )

    @field_validator("stages", "follow_up_stages")
    @classmethod
    def _distinct(cls, stages: list[int]) -> list[int]:
        if len(set(stages)) != len(stages):
            raise ValueError(_l("a stage is listed twice"))
        return sorted(stages, reverse=True)

    @field_validator("escalation")
    @classmethod
    def _increasing(cls, steps: list[EscalationStep]) -> list[EscalationStep]:
        afters = [s.after for s in steps]
        if afters != sorted(set(afters)):
            raise ValueError(_l("`after` must increase from step to step"))
        return steps


DayCount = Annotated[int, Field(ge=0, le=120)]


class MeetingsSpec(Strict):
    """When the engine convenes meetings and chases their minutes, in days around the meeting.

    A day before the meeting that is not a working day moves to the working day before it; a
    day after, to the working day after it. Mails go out at `reminders.send_at`.
    """

    agenda_call_days: DayCount = 14  # council and yearly review: members send agenda items
    invitation_days: DayCount = 7  # the invitation with the agenda and a calendar part
    report_days: DayCount = 2  # check-in status report; the yearly report before the evaluation
    minutes_request_days: DayCount = 1  # after the meeting: the secretary is asked for the minutes
    minutes_due_days: DayCount = 7  # minutes not recorded by then are chased …
    chase_every_days: Annotated[int, Field(ge=1, le=120)] = 7  # … and again every N days

    @model_validator(mode="after")
    def _call_before_invitation(self) -> MeetingsSpec:
        if self.agenda_call_days and self.agenda_call_days <= self.invitation_days:
            raise ValueError(
                _l(
                    "`agenda_call_days` must be more than `invitation_days` (or 0: no call for agenda items): "
                    "the agenda call comes before the invitation"
                )
            )
        if self.minutes_due_days < self.minutes_request_days:
            raise ValueError(_l("`minutes_due_days` cannot come before `minutes_request_days`"))
        return self


class LinksSpec(Strict):
    """The signed links in mails (Klart, Jag kommer, …): how long a mailed link stays valid."""

    expiry_days: Annotated[int, Field(ge=1, le=365)] = 30


class ActivitySpec(Strict):
    id: Key
    activity: Text
    when: Phrase | None = None  # När, exactly as written
    responsible: Text  # Ansvarig, exactly as written
    timing: Annotated[dict[str, Any], AfterValidator(_clean_tree)] | None = (
        None  # a structured timing instead of (or overriding) `when`
    )
    footnotes: list[Prose] = []

    @model_validator(mode="after")
    def _when_or_timing(self) -> ActivitySpec:
        if self.when is None and self.timing is None:
            raise ValueError(_l("give `when` (När) or `timing`"))
        return self


class GoalSpec(Strict):
    id: Key | None = None
    title: Text
    activities: list[ActivitySpec] = Field(min_length=1)


class AreaSpec(Strict):
    id: Key
    title: Text
    priority: int | None = Field(default=None, ge=1)
    background: Prose | None = None
    footnotes: list[Prose] = []
    goals: list[GoalSpec] = Field(min_length=1)


class PlanSpec(Strict):
    title: Text
    year: int = Field(ge=1900, le=2200)
    areas: list[AreaSpec] = Field(min_length=1)


class AgreementSpec(Strict):
    id: Key
    title: Text
    subtitle: Line | None = None
    signed: Signed | None = None
    period: Period
    timezone: str = "Europe/Stockholm"
    language: Literal["sv", "en"] = "sv"
    preamble: Prose | None = None
    organisations: list[OrganisationSpec] = Field(min_length=2)
    people: list[PersonSpec] = Field(min_length=1)
    signatories: list[SignatorySpec] = []
    council: CouncilSpec
    calendar: CalendarSpec = CalendarSpec()
    reminders: RemindersSpec = RemindersSpec()
    meetings: MeetingsSpec = MeetingsSpec()
    links: LinksSpec = LinksSpec()
    cycle: CycleSpec
    plan: PlanSpec

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            return known_zone(name)
        except ValueError:
            raise ValueError(_l("unknown time zone %(zone)r", zone=name)) from None


def slug(text: str) -> str:
    """A stable key from a title: 'Drogrfria miljöer' -> 'drogrfria-miljoer'."""
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")[:100] or "x"


__all__ = [
    "AgreementSpec",
    "AreaSpec",
    "ActivitySpec",
    "Body",
    "CycleSpec",
    "GoalSpec",
    "MeetingsSpec",
    "OrganisationSpec",
    "PersonSpec",
    "PlanSpec",
    "RemindersSpec",
    "slug",
]
