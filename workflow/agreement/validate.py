"""Reading an agreement file: syntax, fields, references and the plan language, all located."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from workflow.agreement.contacts import parent_loops, resolve_contacts
from workflow.agreement.context import timing_context as context_timing
from workflow.agreement.schema import AgreementSpec, slug
from workflow.i18n import _l
from workflow.plan_language.content import ActivityPlan, read_activity
from workflow.plan_language.responsibility import ResponsibilityError
from workflow.plan_language.timing import TimingContext, TimingError
from workflow.source import InputError, Problem, YamlDocument, read_yaml


@dataclass
class AgreementFile:
    """A validated agreement: the spec, the parsed plan, and where it came from."""

    spec: AgreementSpec
    document: YamlDocument
    activities: list[ActivityPlan] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # shown by check and load; not errors

    @property
    def timing_context(self) -> TimingContext:
        return timing_context(self.spec)


def timing_context(spec: AgreementSpec) -> TimingContext:
    return context_timing(
        spec.period.start, spec.period.end, spec.timezone, spec.calendar.model_dump(mode="json")
    )


def read_agreement(path: str | Path) -> AgreementFile:
    """Validate an agreement file completely, or raise InputError listing every problem."""
    doc = read_yaml(path)
    try:
        spec = AgreementSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(doc.problems_from_validation(exc)) from None
    problems = _check_references(spec, doc)
    activities, plan_problems = _read_plan(spec, doc)
    problems += plan_problems
    if problems:
        raise InputError(problems)
    return AgreementFile(spec, doc, activities, warnings=shared_addresses(spec, doc))


def shared_addresses(spec: AgreementSpec, doc: YamlDocument) -> list[Problem]:
    """People who share an address: allowed (a shared mailbox), but they get one mail a day together."""
    first: dict[str, str] = {}
    warnings = []
    for i, person in enumerate(spec.people):
        other = first.setdefault(person.email.lower(), person.id)
        if other != person.id:
            warnings.append(
                doc.problem(
                    ("people", i, "email"),
                    _l(
                        "%(person)r has the same address as %(other)r: one mail a day for both, "
                        "addressed to %(other)r",
                        person=person.id,
                        other=other,
                    ),
                )
            )
    return warnings


def alias_table(spec: AgreementSpec) -> dict[str, str]:
    """Casefolded word -> organisation key: each organisation's id, name and aliases."""
    table: dict[str, str] = {}
    for org in spec.organisations:
        for word in (org.id, org.name, *org.aliases):
            table.setdefault(word.casefold(), org.id)
    return table


def _duplicates(keys: list[str]) -> set[str]:
    return {k for k, n in Counter(keys).items() if n > 1}


def _check_references(spec: AgreementSpec, doc: YamlDocument) -> list[Problem]:
    """Every problem that is not one field's: ids twice, references to nothing, loops."""
    refs = _References(spec, doc)
    refs.duplicate_ids("organisations", [o.id for o in spec.organisations])
    refs.duplicate_ids("people", [p.id for p in spec.people])
    _check_organisations(spec, refs)
    _check_parent_loops(spec, refs)
    _check_people_references(spec, refs)
    _check_cycle_references(spec, refs)
    _check_plan_keys(spec, refs)
    return refs.problems


class _References:
    """The known organisations and people, and the problems found so far, each located."""

    _UNKNOWN = {
        "organisation": lambda key: _l("unknown organisation %(key)r", key=key),
        "person": lambda key: _l("unknown person %(key)r", key=key),
    }

    def __init__(self, spec: AgreementSpec, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.known = {
            "organisation": {o.id for o in spec.organisations},
            "person": {p.id for p in spec.people},
        }

    def add(self, loc: tuple, message: str) -> None:
        self.problems.append(self.doc.problem(loc, message))

    def duplicate_ids(self, section: str, keys: list[str]) -> None:
        twice = _duplicates(keys)
        for i, key in enumerate(keys):
            if key in twice:
                self.add((section, i, "id"), _l("id %(key)r occurs more than once", key=key))

    def ref(self, loc: tuple, key: str | None, what: str) -> None:
        """`key` names an organisation or a person ("what") that the agreement has, or is None."""
        if key is not None and key not in self.known[what]:
            self.add(loc, self._UNKNOWN[what](key))


def _check_organisations(spec: AgreementSpec, refs: _References) -> None:
    """Each parent exists, and no alias belongs to two organisations."""
    owners_of_alias: dict[str, str] = {}
    for i, org in enumerate(spec.organisations):
        refs.ref(("organisations", i, "parent"), org.parent, "organisation")
        for j, word in enumerate(org.aliases):
            other = owners_of_alias.setdefault(word.casefold(), org.id)
            if other != org.id:
                refs.add(
                    ("organisations", i, "aliases", j),
                    _l(
                        "the alias %(word)r is already used by the organisation %(other)r",
                        word=word,
                        other=other,
                    ),
                )


def _check_parent_loops(spec: AgreementSpec, refs: _References) -> None:
    # A loop is reported once, on the parent of its member that comes first in the file.
    index = {o.id: i for i, o in enumerate(spec.organisations)}
    for loop in parent_loops({o.id: o.parent for o in spec.organisations}):
        chain = " → ".join(repr(key) for key in (*loop, loop[0]))
        refs.add(
            ("organisations", index[loop[0]], "parent"),
            _l("the parent organisations form a loop: %(chain)s", chain=chain),
        )


def _check_people_references(spec: AgreementSpec, refs: _References) -> None:
    """People's organisations, the signatories and the council name who exists."""
    for i, person in enumerate(spec.people):
        refs.ref(("people", i, "organisation"), person.organisation, "organisation")
    for i, sig in enumerate(spec.signatories):
        refs.ref(("signatories", i, "person"), sig.person, "person")
        refs.ref(("signatories", i, "party"), sig.party, "organisation")
    council = spec.council
    refs.ref(("council", "convened_by"), council.convened_by, "organisation")
    refs.ref(("council", "secretary"), council.secretary, "person")
    for i, m in enumerate(council.members):
        refs.ref(("council", "members", i, "person"), m.person, "person")
    if council.reference_group:
        for i, m in enumerate(council.reference_group.members):
            refs.ref(("council", "reference_group", "members", i, "person"), m.person, "person")


def _check_cycle_references(spec: AgreementSpec, refs: _References) -> None:
    """The cycle's step owners, check-in parties and report receivers exist."""
    cycle = spec.cycle
    for i, step in enumerate(cycle.steps):
        for j, owner in enumerate(step.owners):
            refs.ref(("cycle", "steps", i, "owners", j), owner, "organisation")
    for j, party in enumerate(cycle.check_ins.parties):
        refs.ref(("cycle", "check_ins", "parties", j), party, "organisation")
    for j, person in enumerate(cycle.evaluation.report_to):
        refs.ref(("cycle", "evaluation", "report_to", j), person, "person")


def _check_plan_keys(spec: AgreementSpec, refs: _References) -> None:
    """Area ids and titles occur once; an activity id once in the whole plan."""
    areas = spec.plan.areas
    dup_areas = _duplicates([a.id for a in areas])
    dup_titles = _duplicates([a.title.casefold() for a in areas])
    for i, area in enumerate(areas):
        if area.id in dup_areas:
            refs.add(("plan", "areas", i, "id"), _l("id %(key)r occurs more than once", key=area.id))
        if area.title.casefold() in dup_titles:
            refs.add(
                ("plan", "areas", i, "title"),
                _l("the area %(title)r occurs more than once", title=area.title),
            )
    activity_keys = [
        (a.id, (i, g, k))
        for i, area in enumerate(areas)
        for g, goal in enumerate(area.goals)
        for k, a in enumerate(goal.activities)
    ]
    twice = _duplicates([key for key, _ in activity_keys])
    for key, (i, g, k) in activity_keys:
        if key in twice:
            refs.add(
                ("plan", "areas", i, "goals", g, "activities", k, "id"),
                _l("the activity id %(key)r occurs more than once", key=key),
            )


def contacts_by_organisation(spec: AgreementSpec) -> dict[str, list[str]]:
    """Organisation -> its contact people; an organisation without one borrows its parent's."""
    own: dict[str, list[str]] = {}
    for person in spec.people:
        if person.contact:
            own.setdefault(person.organisation, []).append(person.id)
    parents = {o.id: o.parent for o in spec.organisations}
    return {org: list(people) for org, people in resolve_contacts(parents, own).items()}


def _read_plan(spec: AgreementSpec, doc: YamlDocument) -> tuple[list[ActivityPlan], list[Problem]]:
    problems: list[Problem] = []
    activities: list[ActivityPlan] = []
    aliases = alias_table(spec)
    contacts = contacts_by_organisation(spec)
    ctx = timing_context(spec)
    for i, area in enumerate(spec.plan.areas):
        goal_keys: list[str] = []
        for g, goal in enumerate(area.goals):
            goal_key = goal.id or slug(goal.title)
            if goal_key in goal_keys:
                problems.append(
                    doc.problem(
                        ("plan", "areas", i, "goals", g),
                        _l("the goal %(title)r occurs more than once in the area", title=goal.title),
                    )
                )
            goal_keys.append(goal_key)
            for k, act in enumerate(goal.activities):
                loc = ("plan", "areas", i, "goals", g, "activities", k)
                try:
                    plan = read_activity(
                        area_key=area.id,
                        goal_key=goal_key,
                        goal_title=goal.title,
                        key=act.id,
                        title=act.activity,
                        when=act.when,
                        responsible=act.responsible,
                        timing=act.timing,
                        aliases=aliases,
                        ctx=ctx,
                        footnotes=tuple(act.footnotes),
                    )
                except ResponsibilityError as exc:
                    problems.append(doc.problem((*loc, "responsible"), exc.args[0]))
                    continue
                except TimingError as exc:
                    field_name = "timing" if act.timing is not None else "when"
                    problems.append(doc.problem((*loc, field_name), str(exc)))
                    continue
                problems += [
                    doc.problem(
                        (*loc, "responsible"),
                        _l(
                            "the organisation %(org)r has no contact person (contact: true) who can get reminders",
                            org=org,
                        ),
                    )
                    for org in (*plan.leads, *plan.partners)
                    if not contacts.get(org)
                ]
                activities.append(plan)
    return activities, problems
