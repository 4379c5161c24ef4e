"""The year's cycle on the desk: its steps and deliverables with who delivered them; closing a step, or overriding it.

The same rules and audit as `trygg cycle deliver|close-step|override` (workflow.cycle.lifecycle);
only the actor differs (the signed-in person, channel web).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement, Person
from workflow.audit import UnitOfWork
from workflow.cycle.lifecycle import CycleError, close_step, current_cycle, cycle_status, record_deliverable
from workflow.cycle.models import Cycle
from workflow.i18n import _l


def cycle_years(session: Session, agreement: Agreement) -> list[int]:
    return list(
        session.scalars(select(Cycle.year).where(Cycle.agreement_id == agreement.id).order_by(Cycle.year))
    )


def cycle_view(session: Session, agreement: Agreement, year: int | None = None) -> dict[str, Any] | None:
    """The cycle as `trygg cycle status --json` shows it, each `done_by` actor given a name; None without one.

    Read only: the automatic deliverables are refreshed when a step is closed, not by looking.
    """
    try:
        cycle = current_cycle(session, agreement, year)
    except CycleError:
        return None
    data = cycle_status(session, agreement, cycle)
    names = {
        f"person:{pid}": name
        for pid, name in session.execute(
            select(Person.id, Person.name).where(Person.agreement_id == agreement.id)
        )
    }
    for step in data["steps"]:
        for d in step["deliverables"]:
            d["done_by_name"] = names.get(d["done_by"], d["done_by"]) if d["done_by"] else None
    return data


def close_with_deliverables(
    unit: UnitOfWork,
    agreement: Agreement,
    year: int,
    number: int,
    delivered: list[str],
    note: str | None = None,
    override_reason: str | None = None,
) -> Cycle | None:
    """Record the ticked deliverables, then close step `number` (with a reason: override). Returns the
    next year's cycle when step 5 closed. A CycleError says why nothing may change."""
    if override_reason is not None and not override_reason.strip():
        raise CycleError(_l("a reason is required"))
    cycle = deliver(unit, agreement, year, number, delivered, note)
    reason = override_reason.strip() if override_reason else None
    return close_step(unit.session, unit, agreement, cycle, number, override_reason=reason)


def deliver(
    unit: UnitOfWork, agreement: Agreement, year: int, number: int, keys: list[str], note: str | None = None
) -> Cycle:
    """Record the deliverables `keys` of step `number` done (each audited, as `trygg cycle deliver`)."""
    cycle = current_cycle(unit.session, agreement, year)
    for key in keys:
        record_deliverable(unit.session, unit, cycle, number, key, (note or "").strip() or None)
    return cycle
