"""Writing a plan version to the store: areas, goals and activities kept by id, changes audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement, Organisation
from workflow.audit import UnitOfWork, deactivate
from workflow.i18n import _
from workflow.plan.models import (
    Activity,
    ActivityOwner,
    ActivityState,
    ActivityStatusChange,
    Goal,
    OwnerRole,
    PlanVersion,
    PriorityArea,
)
from workflow.plan_language.content import AreaContent, PlanContent, normalise_text
from workflow.plan_language.timing import deadline_of, start_of


def latest_version(
    session: Session, agreement_id: int, *, year: int | None = None, origin: str | None = None
) -> PlanVersion | None:
    query = select(PlanVersion).where(PlanVersion.agreement_id == agreement_id)
    if year is not None:
        query = query.where(PlanVersion.year == year)
    if origin is not None:
        query = query.where(PlanVersion.origin == origin)
    return session.scalar(query.order_by(PlanVersion.id.desc()).limit(1))


def load_plan(
    session: Session, unit: UnitOfWork, agreement: Agreement, plan: PlanContent, orgs: dict[str, Organisation]
) -> list[Activity]:
    """Make the store's plan the given one; activities that left it are withdrawn, not deleted.
    Returns the activities it created, changed or withdrew (their next action may have moved).

    An agreement file's inline plan is applied only when it differs from the one last loaded
    from the file: otherwise reloading the agreement would undo a later `trygg plan import`.
    """
    content = plan.as_json()
    if plan.origin == "agreement":
        # The file's plan is the one last loaded from a file, or the one in force (an exported
        # file after an import or edits on the web): nothing to apply either way.
        for previous in (
            latest_version(session, agreement.id, origin="agreement"),
            latest_version(session, agreement.id, year=plan.year),
        ):
            if previous is not None and previous.content == content:
                unit.result.plan_revision = previous.revision
                return []
    aid = agreement.id
    existing_areas = {
        a.key: a for a in session.scalars(select(PriorityArea).where(PriorityArea.agreement_id == aid))
    }
    texts = {a.key: _area_texts(plan, a, existing_areas.get(a.key)) for a in plan.areas}
    areas = unit.rows(
        "priority_area",
        existing_areas,
        {
            a.key: {
                "title": a.title,
                "priority_rank": a.priority
                if a.priority is not None or a.key not in existing_areas
                else existing_areas[a.key].priority_rank,
                "plan_position": i + 1,
                **texts[a.key],
                "active": True,
            }
            for i, a in enumerate(plan.areas)
        },
        lambda key: PriorityArea(agreement_id=aid, key=key),
        retire=deactivate,
    )
    goals = _load_goals(session, unit, plan, aid, areas)
    touched = _load_activities(session, unit, plan, agreement, goals, orgs)
    if plan.origin != "agreement":  # an import's version records the texts in force, kept ones too
        for area in content["areas"]:
            area.update(texts.get(area["id"], {}))
    _record_version(session, unit, plan, aid, content)
    return touched


def _keeps_texts(plan: PlanContent) -> tuple[bool, bool]:
    """(keep backgrounds a row lacks, keep every footnote): a plan import — text copied from Word, a
    CSV, a sheet — often has neither, and a file without them must not empty what the store has. A
    file with footnotes anywhere is the truth about all of them; an agreement file always is."""
    if plan.origin == "agreement":
        return False, False
    has_footnotes = any(a.footnotes for a in plan.areas) or any(a.footnotes for a in plan.activities)
    return True, not has_footnotes


def _area_texts(plan: PlanContent, area: AreaContent, stored: PriorityArea | None) -> dict[str, Any]:
    """An area's background and footnotes: the plan's, or what the store has where the plan has none."""
    background, footnotes = normalise_text(area.background), list(area.footnotes)
    keep_background, keep_footnotes = _keeps_texts(plan)
    if stored is not None and keep_background and not background:
        background = stored.background
    if stored is not None and keep_footnotes:
        footnotes = list(stored.footnotes or [])
    return {"background": background, "footnotes": footnotes}


def _load_goals(session: Session, unit: UnitOfWork, plan: PlanContent, aid: int, areas) -> dict[str, Goal]:
    existing = {
        f"{g.area.key}/{g.key}": g for g in session.scalars(select(Goal).where(Goal.agreement_id == aid))
    }
    desired: dict[str, dict[str, Any]] = {}
    for act in plan.activities:
        key = f"{act.area_key}/{act.goal_key}"
        if key not in desired:
            desired[key] = {"title": act.goal_title, "position": len(desired) + 1, "active": True}

    def create(key: str) -> Goal:
        area_key, goal_key = key.split("/", 1)
        return Goal(agreement_id=aid, area_id=areas[area_key].id, key=goal_key)

    return unit.rows("goal", existing, desired, create, retire=deactivate)


def _load_activities(
    session: Session, unit: UnitOfWork, plan: PlanContent, agreement: Agreement, goals, orgs
) -> list[Activity]:
    aid = agreement.id
    desired = _desired_activities(plan, agreement)
    existing = {a.key: a for a in session.scalars(select(Activity).where(Activity.agreement_id == aid))}
    if _keeps_texts(plan)[1]:  # a file without footnotes keeps the activities' ones too
        for key, wanted in desired.items():
            if key in existing:
                wanted["footnotes"] = list(existing[key].footnotes or [])
    goal_key = {g.id: k for k, g in goals.items()}
    for a in existing.values():
        goal_key.setdefault(a.goal_id, f"{a.goal.area.key}/{a.goal.key}")

    def withdraw(row: Activity) -> tuple[dict, dict] | None:
        if row.state == ActivityState.WITHDRAWN:
            return None
        before = {"state": row.state}
        change_state(
            row, ActivityState.WITHDRAWN, unit, _("removed from the action plan", agreement.language)
        )
        return before, {"state": row.state}

    rows = unit.rows(
        "activity",
        existing,
        desired,
        lambda key: Activity(agreement_id=aid, key=key, state=ActivityState.OPEN),
        setters={
            "goal": (
                lambda row: goal_key.get(row.goal_id),
                lambda row, value: setattr(row, "goal_id", goals[value].id),
            ),
            "owners": _owner_accessors(session, orgs),
        },
        retire=withdraw,
    )
    _start_or_reopen(rows.values(), unit, agreement.language)
    touched = {key for _, entity, key in unit.result.changes if entity == "activity"}
    return [row for key, row in {**existing, **rows}.items() if key in touched]


def _desired_activities(plan: PlanContent, agreement: Agreement) -> dict[str, dict[str, Any]]:
    """Activity key -> the columns the plan wants, its dates worked out on the agreement's calendar."""
    context = context_of(agreement)
    ctx, days = context.timing, context.workdays
    desired: dict[str, dict[str, Any]] = {}
    for pos, act in enumerate(plan.activities):
        owners = [[k, OwnerRole.LEAD.value] for k in act.leads]
        owners += [[k, OwnerRole.PARTNER.value] for k in act.partners]
        desired[act.key] = {
            "goal": f"{act.area_key}/{act.goal_key}",
            "title": act.title,
            "position": pos + 1,
            "when_text": act.when_text,
            "responsible_text": act.responsible_text,
            "timing": act.timing,
            "starts_on": start_of(act.timing, ctx) if act.timing is not None else None,
            "deadline": deadline_of(act.timing, ctx, days) if act.timing is not None else None,
            "footnotes": list(act.footnotes),
            "owners": owners,
        }
    return desired


def _owner_accessors(session: Session, orgs: dict[str, Organisation]):
    """Read and write an activity's owners as [organisation key, role] pairs, for `unit.rows`."""
    org_key = {o.id: k for k, o in orgs.items()}

    def get_owners(row: Activity) -> list[list[str]]:
        return [[org_key[o.organisation_id], o.role] for o in row.owners]

    def set_owners(row: Activity, owners: list[list[str]]) -> None:
        row.owners.clear()
        session.flush()  # the unique (activity, organisation) must be free before re-adding
        for pos, (org, role) in enumerate(owners):
            row.owners.append(ActivityOwner(organisation_id=orgs[org].id, role=role, position=pos))

    return get_owners, set_owners


def _start_or_reopen(rows: Iterable[Activity], unit: UnitOfWork, language: str) -> None:
    """A new activity's first state, and a withdrawn one that is back in the plan reopened."""
    for row in rows:
        if not row.history:
            row.history.append(
                ActivityStatusChange(
                    at=unit.clock.now(), actor=unit.actor, from_state=None, to_state=row.state
                )
            )
        elif row.state == ActivityState.WITHDRAWN:  # back in the plan
            change_state(row, ActivityState.OPEN, unit, _("back in the action plan", language))


def change_state(row: Activity, state: ActivityState, unit: UnitOfWork, note: str) -> None:
    row.history.append(
        ActivityStatusChange(
            at=unit.clock.now(), actor=unit.actor, from_state=row.state, to_state=state, note=note
        )
    )
    row.state = state


def _record_version(session: Session, unit: UnitOfWork, plan: PlanContent, aid: int, content: dict) -> None:
    """A new revision of the year's plan when its content differs from the latest one."""
    latest = latest_version(session, aid, year=plan.year)
    if latest is not None and latest.content == content and latest.origin == plan.origin:
        unit.result.plan_revision = latest.revision
        return
    revision = (latest.revision + 1) if latest else 1
    session.add(
        PlanVersion(
            agreement_id=aid,
            year=plan.year,
            revision=revision,
            origin=plan.origin,
            title=plan.title,
            source=plan.source,
            source_sha256=plan.sha256,
            content=content,
            created_at=unit.clock.now(),
        )
    )
    unit.result.plan_revision = revision
    unit.audit(
        "create",
        "plan_version",
        f"{plan.year}/{revision}",
        after={"title": plan.title, "origin": plan.origin},
    )
