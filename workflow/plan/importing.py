"""`trygg plan import`: a coordinator's plan file (Word text, CSV, XLSX) becomes a plan version."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.contacts import parent_loops, resolve_contacts
from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement, Organisation, Person
from workflow.agreement.schema import slug
from workflow.clock import Clock
from workflow.i18n import LazyText, _l, render
from workflow.plan.models import Activity, Goal, PriorityArea
from workflow.plan_language.content import ActivityPlan, AreaContent, PlanContent, read_activity, title_key
from workflow.plan_language.document import PlanDocument, PlanRow, read_plan, title_year
from workflow.plan_language.responsibility import ResponsibilityError
from workflow.plan_language.timing import TimingError, deadline_of, parse_timing_spec, timing_warnings
from workflow.source import InputError, Problem

# How alike an edited activity text must be to the old one to keep its id (difflib ratio),
# and how much being under the same goal counts towards it.
SIMILAR = 0.8
SAME_GOAL_BONUS = 0.3
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass
class PlanImport:
    """A plan file read against an agreement: what it would become, and what is wrong with it."""

    agreement: Agreement
    document: PlanDocument
    year: int
    rows: list[tuple[ActivityPlan, PlanRow, str]] = field(default_factory=list)  # plan, row, area
    problems: list[Problem] = field(default_factory=list)
    areas: dict[str, AreaContent] = field(default_factory=dict)  # by area key, in file order
    warnings: list[Problem] = field(default_factory=list)  # kept, but said: dates outside the period

    def content(self) -> PlanContent:
        areas: dict[str, AreaContent] = {}
        for plan, _, _ in self.rows:
            areas.setdefault(plan.area_key, self.areas[plan.area_key])
        return PlanContent(
            title=self.document.title
            or render(_l("Action plan %(year)s", year=self.year), self.agreement.language),
            year=self.year,
            origin="import",
            source=self.document.file,
            sha256=self.document.sha256,
            areas=tuple(areas.values()),
            activities=tuple(plan for plan, _, _ in self.rows),
        )

    def as_json(self) -> list[dict[str, Any]]:
        context = context_of(self.agreement)
        ctx, days = context.timing, context.workdays
        out = []
        for plan, row, area_title in self.rows:
            deadline = deadline_of(plan.timing, ctx, days)
            out.append(
                {
                    "id": plan.key,
                    "area": area_title,
                    "goal": plan.goal_title,
                    "activity": plan.title,
                    "when": plan.when_text,
                    "responsible": plan.responsible_text,
                    "owners": list(plan.leads),
                    "partners": list(plan.partners),
                    "timing": plan.timing,
                    "deadline": deadline.isoformat() if deadline else None,
                    "line": row.line,
                }
            )
        return out


def default_year(agreement: Agreement, clock: Clock) -> int:
    """The cycle year a plan is imported for when --year is not given: this year while the
    agreement runs, else its first year."""
    year = clock.now().year
    if agreement.period_start.year <= year <= agreement.period_end.year:
        return year
    return agreement.period_start.year


def read_plan_import(
    session: Session, agreement: Agreement, path: str | Path, year: int, *, year_given: bool = True
) -> PlanImport:
    """Read and check a plan file against the agreement in the store; writes nothing.

    The plan's year (`year` when given, else its heading's "Handlingsplan 2026", else `year`)
    dates the När phrases that leave the year out."""
    document = read_plan(path)
    if not year_given:
        year = title_year(document.title) or year
    result = PlanImport(agreement, document, year)
    result.problems += _year_problems(document, agreement, year)
    result.problems += _parent_loops(session, agreement)
    aliases, contacts = _aliases_and_contacts(session, agreement)
    ctx = replace(context_of(agreement).timing, year=year)
    keys = _KeyChooser(session, agreement)
    placed = []
    for area in document.areas:
        area_key = keys.area(area.title)
        result.areas[area_key] = AreaContent(
            area_key, area.title, None, area.background, tuple(area.footnotes)
        )
        placed += [(area_key, area.title, row) for row in area.rows]
    chosen = keys.activities([(area_key, row) for area_key, _, row in placed])
    for (area_key, area_title, row), key in zip(placed, chosen, strict=True):
        if isinstance(key, ValueError):
            result.problems.append(_at(document, row, "id", key.args[0]))
            continue
        plan, problems = _read_row(document, row, area_key, key, keys, aliases, contacts, ctx)
        result.problems += problems
        if plan is not None:
            result.rows.append((plan, row, area_title))
            warnings = timing_warnings(parse_timing_spec(plan.timing), ctx)
            result.warnings += [_at(document, row, "when", w) for w in warnings]
    return result


def _year_problems(document: PlanDocument, agreement: Agreement, year: int) -> list[Problem]:
    if agreement.period_start.year <= year <= agreement.period_end.year:
        return []
    message = _l(
        "the year %(year)s is outside the agreement's period %(start)s–%(end)s",
        year=year,
        start=agreement.period_start,
        end=agreement.period_end,
    )
    return [Problem(document.file, None, None, "--year", message)]


def _read_row(document, row, area_key, key, keys, aliases, contacts, ctx) -> tuple[ActivityPlan | None, list]:
    """One row as an activity of the plan, or the problems that keep it out (with their places)."""
    try:
        plan = read_activity(
            area_key=area_key,
            goal_key=keys.goal(area_key, row.goal),
            goal_title=row.goal,
            key=key,
            title=row.activity,
            when=row.when,
            responsible=row.responsible,
            timing=None,
            aliases=aliases,
            ctx=ctx,
        )
    except ResponsibilityError as exc:
        return None, [_at(document, row, "responsible", exc.args[0])]
    except TimingError as exc:
        return None, [_at(document, row, "when", exc.args[0])]
    missing = [o for o in (*plan.leads, *plan.partners) if not contacts.get(o)]
    return plan, [
        _at(document, row, "responsible", _l("the organisation %(org)r has no contact person", org=org))
        for org in missing
    ]


def withdrawal_problem(file: str, withdrawn: list[str], active: int) -> Problem | None:
    """An import that withdraws more than a third of the plan's active activities is more likely
    a cut or wrong file than a revision: it needs --allow-withdraw."""
    if len(withdrawn) * 3 <= active:
        return None
    named = ", ".join(withdrawn[:5]) + (", …" if len(withdrawn) > 5 else "")
    return Problem(
        file,
        None,
        None,
        "",
        _l(
            "the import would withdraw %(n)s of the plan's %(active)s activities (more than a third: "
            "%(keys)s); check the file, or give --allow-withdraw if that is meant",
            n=len(withdrawn),
            active=active,
            keys=named,
        ),
    )


class WithdrawalRefused(InputError):
    """Too many withdrawals: the import's changes are kept for a dry run to show."""

    def __init__(self, problems: list[Problem], changes: list[tuple[str, str, str]]) -> None:
        super().__init__(problems)
        self.changes = changes


_FIELD_NAMES = {"goal": "Mål", "activity": "Aktivitet", "when": "När", "responsible": "Ansvarig", "id": "Id"}


def _at(document: PlanDocument, row: PlanRow, name: str, message: str | LazyText) -> Problem:
    return Problem(document.file, row.line, row.columns.get(name), _FIELD_NAMES[name], message)


def _parent_loops(session: Session, agreement: Agreement) -> list[Problem]:
    """A parent loop in the store (loaded before files were checked for one, or written by
    other means) refuses the import: the agreement must be corrected and loaded again."""
    orgs = session.execute(
        select(Organisation.id, Organisation.key, Organisation.parent_id)
        .where(Organisation.agreement_id == agreement.id, Organisation.active)
        .order_by(Organisation.id)
    ).all()
    keys = {org_id: key for org_id, key, _ in orgs}
    problems = []
    for loop in parent_loops({org_id: parent_id for org_id, _, parent_id in orgs}):
        chain = " → ".join(repr(keys[org_id]) for org_id in (*loop, loop[0]))
        problems.append(
            Problem(
                agreement.source_file or agreement.key,
                None,
                None,
                "organisations",
                _l(
                    "the parent organisations of the loaded agreement form a loop: %(chain)s "
                    "(correct parent and load the agreement again)",
                    chain=chain,
                ),
            )
        )
    return problems


def _aliases_and_contacts(
    session: Session, agreement: Agreement
) -> tuple[dict[str, str], dict[str, list[str]]]:
    orgs = list(
        session.scalars(
            select(Organisation).where(Organisation.agreement_id == agreement.id, Organisation.active)
        )
    )
    aliases: dict[str, str] = {}
    for org in orgs:
        for word in (org.key, org.name, *org.aliases):
            aliases.setdefault(word.casefold(), org.key)
    own: dict[int, list[str]] = {}
    for person in session.scalars(
        select(Person).where(Person.agreement_id == agreement.id, Person.is_contact, Person.active)
    ):
        own.setdefault(person.organisation_id, []).append(person.key)
    resolved = resolve_contacts({o.id: o.parent_id for o in orgs}, own)
    contacts = {org.key: list(resolved[org.id]) for org in orgs}
    return aliases, contacts


class _KeyChooser:
    """Stable ids for what a plan file names only by title: the store's id when the title (or,
    for an edited activity, a very similar one) is known, a new id from the title otherwise."""

    def __init__(self, session: Session, agreement: Agreement) -> None:
        areas = list(session.scalars(select(PriorityArea).where(PriorityArea.agreement_id == agreement.id)))
        self.area_by_title = {title_key(a.title): a.key for a in areas}
        self.used_area_keys = {a.key for a in areas}
        self.goal_by_title: dict[tuple[str, str], str] = {}
        for goal in session.scalars(select(Goal).where(Goal.agreement_id == agreement.id)):
            self.goal_by_title[(goal.area.key, title_key(goal.title))] = goal.key
        # area -> [(goal title, activity title, activity key)], titles as title_key
        self.known: dict[str, list[tuple[str, str, str]]] = {}
        self.used_keys: set[str] = set()
        for act in session.scalars(select(Activity).where(Activity.agreement_id == agreement.id)):
            entry = (title_key(act.goal.title), title_key(act.title), act.key)
            self.known.setdefault(act.goal.area.key, []).append(entry)
            self.used_keys.add(act.key)
        self.claimed: set[str] = set()

    def area(self, title: str) -> str:
        key = self.area_by_title.get(title_key(title))
        if key is None:
            key = _unique(slug(title), self.used_area_keys)
            self.used_area_keys.add(key)
            self.area_by_title[title_key(title)] = key
        return key

    def goal(self, area_key: str, title: str) -> str:
        return self.goal_by_title.setdefault((area_key, title_key(title)), slug(title))

    def activities(self, rows: list[tuple[str, PlanRow]]) -> list[str | ValueError]:
        """An id per row: given ids and exact titles first, so that a fuzzy match never takes
        the id of a row further down that names its activity exactly."""
        out: list[str | ValueError | None] = [None] * len(rows)
        for exact in (True, False):
            for i, (area_key, row) in enumerate(rows):
                if out[i] is None:
                    try:
                        out[i] = self._choose(area_key, row, exact)
                    except ValueError as exc:
                        out[i] = exc
        return out  # type: ignore[return-value]

    def _choose(self, area_key: str, row: PlanRow, exact: bool) -> str | None:
        if row.id:
            if not _KEY.match(row.id):
                raise ValueError(_l("invalid id %(key)r (small letters, digits, -, _ and .)", key=row.id))
            return self._claim(row.id)
        wanted, goal = title_key(row.activity), title_key(row.goal)
        candidates = [c for c in self.known.get(area_key, []) if c[2] not in self.claimed]
        if exact:
            match = next((c[2] for c in candidates if c[1] == wanted), None)
            return self._claim(match) if match else None

        def likeness(candidate: tuple[str, str, str]) -> float:
            ratio = difflib.SequenceMatcher(None, candidate[1], wanted).ratio()
            # An edited activity under the same goal may have changed more of its words.
            return ratio + (SAME_GOAL_BONUS if candidate[0] == goal else 0.0)

        best = max(candidates, key=likeness, default=None)
        if best is not None and likeness(best) >= SIMILAR:
            return self._claim(best[2])
        words = slug(row.activity)
        if len(words) > 40:  # cut at a word, not inside one
            words = words[:41].rsplit("-", 1)[0]
        key = _unique(f"{area_key[:3]}-{words}", self.used_keys | self.claimed)
        return self._claim(key)

    def _claim(self, key: str) -> str:
        if key in self.claimed:
            raise ValueError(_l("id %(key)r occurs more than once in the plan", key=key))
        self.claimed.add(key)
        return key


def _unique(base: str, taken: set[str]) -> str:
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key
