"""What a revised plan changes: the store's plan read as a snapshot, and two snapshots compared field by field.

The desk shows the diff of an import before it is confirmed: the import runs for real in a
transaction that is rolled back (`workflow.desk.plan_upload`), and this module compares the plan
before with the plan after. So the diff is what the import would write — including what the
import keeps of the store (area backgrounds and footnotes a file lacks) — not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.plan.models import Activity, ActivityState, Goal, PriorityArea

Snapshot = dict[str, dict[str, dict[str, Any]]]  # entity -> key -> field -> value
ENTITIES = ("area", "goal", "activity")
# The fields a coordinator reads, in the order the page shows them.
FIELDS = {
    "area": ("title", "background", "footnotes"),
    "goal": ("title", "area"),
    "activity": ("title", "when", "responsible", "goal", "area", "footnotes"),
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    entity: str  # area, goal, activity
    key: str
    action: str  # added, removed, changed
    title: str
    fields: tuple[FieldChange, ...] = ()


def snapshot(session: Session, agreement_id: int) -> Snapshot:
    """The plan in the store as the desk compares it: active areas, goals and activities."""
    areas = session.scalars(
        select(PriorityArea).where(PriorityArea.agreement_id == agreement_id, PriorityArea.active)
    ).all()
    goals = session.scalars(select(Goal).where(Goal.agreement_id == agreement_id, Goal.active)).all()
    activities = session.scalars(
        select(Activity).where(
            Activity.agreement_id == agreement_id, Activity.state != ActivityState.WITHDRAWN
        )
    ).all()
    return {
        "area": {
            a.key: {"title": a.title, "background": a.background or "", "footnotes": list(a.footnotes or [])}
            for a in areas
        },
        "goal": {f"{g.area.key}/{g.key}": {"title": g.title, "area": g.area.title} for g in goals},
        "activity": {
            a.key: {
                "title": a.title,
                "when": a.when_text or "",
                "responsible": a.responsible_text or "",
                "goal": a.goal.title,
                "area": a.goal.area.title,
                "footnotes": list(a.footnotes or []),
            }
            for a in activities
        },
    }


def diff(before: Snapshot, after: Snapshot) -> list[Change]:
    """Every area, goal and activity added, removed or changed, with each changed field's before and after."""
    out: list[Change] = []
    for entity in ENTITIES:
        old, new = before.get(entity, {}), after.get(entity, {})
        for key in sorted(set(old) | set(new), key=lambda k: (k not in old, k)):
            if key not in new:
                out.append(Change(entity, key, "removed", old[key]["title"]))
            elif key not in old:
                out.append(Change(entity, key, "added", new[key]["title"], _fields(entity, {}, new[key])))
            elif fields := _fields(entity, old[key], new[key]):
                out.append(Change(entity, key, "changed", new[key]["title"], fields))
    return out


def _fields(entity: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    empty: dict[str, Any] = {"footnotes": []}
    return tuple(
        FieldChange(name, old.get(name, empty.get(name, "")), new.get(name))
        for name in FIELDS[entity]
        if old.get(name, empty.get(name, "")) != new.get(name)
    )
