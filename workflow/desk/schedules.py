"""The schedules editor: reminder stages, the ladder, send hour, quiet weeks, meetings' cadence, times and places.

A form's text becomes the agreement file's sections (`reminders`, `meetings`, `cycle`), validated by
the file's own schema, so the web accepts exactly what `trygg load` accepts. Saving audits one row
per changed setting (like a load) and moves what the change moves: every activity's next action
when stages, send hour or quiet weeks change, the meetings' slots when cadence, times or places do.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.agreement.schema import CycleSpec, MeetingsSpec, RemindersSpec
from workflow.audit import UnitOfWork
from workflow.cycle.models import Cycle
from workflow.i18n import LazyText, _l
from workflow.meetings import sweep as meetings_sweep
from workflow.meetings.models import Meeting
from workflow.meetings.schedule import period_years, reconcile_meetings
from workflow.plan.models import Activity
from workflow.reminders import sweep as reminders_sweep
from workflow.source import translate_pydantic

MEETING_DAYS = (
    "agenda_call_days",
    "invitation_days",
    "report_days",
    "minutes_request_days",
    "minutes_due_days",
    "chase_every_days",
)
# The cycle's meetings the coordinator schedules, and their fields beside the common rule.
SLOTS = {
    "council_meetings": "months",
    "check_ins": "months",
    "yearly_review": "month",
    "evaluation": "month",
}
RULE = ("weekday", "week_of_month", "time", "duration_minutes", "location")


@dataclass
class Schedules:
    """The three sections as the file writes them (plain JSON), and what is wrong with a form's text."""

    reminders: dict[str, Any]
    meetings: dict[str, Any]
    cycle: dict[str, Any]
    errors: dict[str, str | LazyText] = field(default_factory=dict)  # form field -> why

    @property
    def valid(self) -> bool:
        return not self.errors


def current(agreement: Agreement) -> Schedules:
    """The agreement's stored settings with every default filled in (as the engine reads them)."""
    return Schedules(
        RemindersSpec.model_validate(dict(agreement.reminders_config or {})).model_dump(
            mode="json", by_alias=True
        ),
        MeetingsSpec.model_validate(dict(agreement.meetings_config or {})).model_dump(mode="json"),
        copy.deepcopy(agreement.cycle_config),
    )


def as_form(schedules: Schedules) -> dict[str, str]:
    """The settings as the editor's fields show them (the inverse of `read_form`)."""
    r = schedules.reminders
    form = {
        "reminders.stages": ", ".join(str(s) for s in r["stages"]),
        "reminders.follow_up_stages": ", ".join(str(s) for s in r["follow_up_stages"]),
        "reminders.send_at": r["send_at"],
        "reminders.quiet_weeks": ", ".join(f"{q['from']}-{q['to']}" for q in r["quiet_weeks"]),
        "reminders.escalation": "\n".join(f"{s['after']} {s['to']}" for s in r["escalation"]),
    }
    form |= {f"meetings.{name}": str(schedules.meetings[name]) for name in MEETING_DAYS}
    for slot, months in SLOTS.items():
        rule = schedules.cycle[slot]
        for name in RULE:
            form[f"cycle.{slot}.{name}"] = "" if rule.get(name) is None else str(rule[name])
        value = rule[months]
        form[f"cycle.{slot}.{months}"] = (
            ", ".join(str(m) for m in value) if isinstance(value, list) else str(value)
        )
    return form


def read_form(agreement: Agreement, form: Mapping[str, str]) -> Schedules:
    """The editor's fields as the three sections, checked by the file's schema; errors by field."""
    errors: dict[str, str | LazyText] = {}
    reminders = {
        "stages": _numbers(form, "reminders.stages", errors),
        "follow_up_stages": _numbers(form, "reminders.follow_up_stages", errors),
        "send_at": form.get("reminders.send_at", "").strip(),
        "quiet_weeks": _weeks(form, "reminders.quiet_weeks", errors),
        "escalation": _ladder(form, "reminders.escalation", errors),
    }
    meetings = {name: _number(form, f"meetings.{name}", errors) for name in MEETING_DAYS}
    cycle = copy.deepcopy(agreement.cycle_config)
    for slot, months in SLOTS.items():
        rule = dict(cycle[slot])
        for name in RULE:
            text = form.get(f"cycle.{slot}.{name}", "").strip()
            if name in ("week_of_month", "duration_minutes"):
                rule[name] = _number(form, f"cycle.{slot}.{name}", errors)
            else:
                rule[name] = text or None if name == "location" else text
        if months == "months":
            rule[months] = _numbers(form, f"cycle.{slot}.{months}", errors)
        else:
            rule[months] = _number(form, f"cycle.{slot}.{months}", errors)
        cycle[slot] = rule
    out = Schedules(reminders, meetings, cycle, errors)
    if not errors:
        out.reminders = _checked(RemindersSpec, reminders, "reminders", errors, by_alias=True)
        out.meetings = _checked(MeetingsSpec, meetings, "meetings", errors)
        out.cycle = _checked(CycleSpec, cycle, "cycle", errors)
    return out


def _checked(
    model: type[BaseModel], data: dict[str, Any], section: str, errors: dict, *, by_alias: bool = False
) -> dict[str, Any]:
    """`data` as the schema normalises it; its problems under the form field they belong to."""
    try:
        return model.model_validate(data).model_dump(mode="json", by_alias=by_alias)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            name = _field_of(section, tuple(error["loc"]))
            errors.setdefault(name, translate_pydantic(error))
        return data


def _field_of(section: str, loc: tuple) -> str:
    """The form field a schema error's place belongs to: list items and sub-fields fold into it."""
    words = [str(part) for part in loc if not isinstance(part, int)]
    if section == "cycle" and len(words) >= 2:
        return f"cycle.{words[0]}.{words[1]}"
    if section == "cycle" and words:
        return f"cycle.{words[0]}.weekday"
    if section == "reminders" and words[:1] == ["quiet_weeks"]:
        return "reminders.quiet_weeks"
    # A rule across fields (the agenda call before the invitation) is shown at the section's first field.
    return (
        f"{section}.{words[0]}"
        if words
        else f"{section}.{'agenda_call_days' if section == 'meetings' else 'stages'}"
    )


def _number(form: Mapping[str, str], name: str, errors: dict) -> int | None:
    text = form.get(name, "").strip()
    try:
        return int(text)
    except ValueError:
        errors[name] = _l("give a whole number")
        return None


def _numbers(form: Mapping[str, str], name: str, errors: dict) -> list[int]:
    parts = [p.strip() for p in form.get(name, "").replace(";", ",").split(",") if p.strip()]
    try:
        return [int(p) for p in parts]
    except ValueError:
        errors[name] = _l("give whole numbers separated by commas")
        return []


def _weeks(form: Mapping[str, str], name: str, errors: dict) -> list[dict[str, int]]:
    """`28-31, 52-1`: ISO weeks from–to (a span over the new year wraps)."""
    out = []
    for part in (p.strip() for p in form.get(name, "").split(",")):
        if not part:
            continue
        bounds = [b.strip() for b in part.split("-")]
        if len(bounds) == 1:
            bounds *= 2
        try:
            start, end = (int(b) for b in bounds)
        except ValueError:
            errors[name] = _l("give week spans like 28-31, separated by commas")
            return []
        out.append({"from": start, "to": end})
    return out


def _ladder(form: Mapping[str, str], name: str, errors: dict) -> list[dict[str, Any]]:
    """One step a line: `5 coordinator` (working days after the deadline, then who)."""
    out = []
    for line in (raw.strip() for raw in form.get(name, "").splitlines()):
        if not line:
            continue
        words = line.replace(":", " ").split()
        if len(words) != 2 or not words[0].isdigit():
            errors[name] = _l("one step a line: working days, then owner, coordinator or management")
            return []
        out.append({"after": int(words[0]), "to": words[1]})
    return out


def changed_settings(before: Schedules, after: Schedules) -> list[tuple[str, Any, Any]]:
    """Every setting that differs, as (dotted name, before, after): one audit row each."""
    out = []
    for section in ("reminders", "meetings", "cycle"):
        old, new = getattr(before, section), getattr(after, section)
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                out.append((f"{section}.{name}", old.get(name), new.get(name)))
    return out


def apply(agreement: Agreement, schedules: Schedules) -> None:
    """Put the sections on the agreement row (in the caller's transaction; no audit, no reschedule)."""
    agreement.reminders_config = schedules.reminders
    agreement.meetings_config = schedules.meetings
    agreement.cycle_config = schedules.cycle


def save(session: Session, unit: UnitOfWork, agreement: Agreement, schedules: Schedules) -> list[str]:
    """Save checked settings: audited per setting, and what they move rescheduled. Returns the names changed."""
    if not schedules.valid:
        raise ValueError("save() needs settings without errors")
    changes = changed_settings(current(agreement), schedules)
    if not changes:
        return []
    unit.agreement_id = agreement.id
    for name, old, new in changes:
        unit.audit("update", "agreement", agreement.key, before={name: old}, after={name: new})
    apply(agreement, schedules)
    session.flush()
    reschedule(session, unit, agreement, {name.split(".")[0] for name, _, _ in changes})
    return [name for name, _, _ in changes]


def reschedule(session: Session, unit: UnitOfWork, agreement: Agreement, sections: set[str]) -> None:
    """What a load does when its schedule changed (workflow.loading): every next action may move."""
    if sections & {"reminders", "meetings"}:
        reminders_sweep.refresh_next_action(
            session, session.scalars(select(Activity).where(Activity.agreement_id == agreement.id)).all()
        )
    if "cycle" in sections:
        opened = set(session.scalars(select(Cycle.year).where(Cycle.agreement_id == agreement.id)))
        reconcile_meetings(session, unit, agreement, set(period_years(agreement)) | opened)
    meetings_sweep.refresh_next_action(
        session, session.scalars(select(Meeting).where(Meeting.agreement_id == agreement.id)).all()
    )
