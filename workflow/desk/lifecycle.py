"""The coordinator ends an agreement's period one of two ways: renew it (the same id, a new period,
its plan, people and schedules carried) or archive it (kept, read-only, nothing more sent).

The CLI (`trygg agreement renew|archive`) and the desk call these; the rules of when the engine
stops for an agreement are `workflow.agreement.lifecycle` and `workflow.engine.ending`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.lifecycle import guard
from workflow.agreement.models import Agreement
from workflow.audit import UnitOfWork
from workflow.cycle.lifecycle import UNFINISHED, ensure_first_cycle, open_cycle
from workflow.cycle.models import Cycle
from workflow.engine.ending import stop_agreement
from workflow.i18n import _l
from workflow.loading import lock_agreement
from workflow.meetings import sweep as meetings_sweep
from workflow.meetings.models import Meeting
from workflow.plan.models import Activity
from workflow.plan.standing import effective_deadline
from workflow.reminders import sweep as reminders_sweep


class RenewalError(ValueError):
    """A new period that cannot be (ends before it starts, starts before the old one)."""


@dataclass(frozen=True)
class Renewal:
    agreement: str
    before: tuple[date, date]
    after: tuple[date, date]
    cycle_opened: int | None  # the year whose cycle was opened (None: it was open already)
    acknowledged: tuple[str, ...]  # activities already overdue when the new period starts


def default_start(agreement: Agreement, today: date) -> date:
    """The day after the old period, or today if that day has passed."""
    return max(agreement.period_end + timedelta(days=1), today)


def renew(unit: UnitOfWork, agreement: Agreement, *, end: date, start: date | None = None) -> Renewal:
    """A new period for the same agreement: its plan, people and schedules go on; the cycle of the
    new period's first year is opened (unfinished activities carried); its meetings are planned."""
    session, now = unit.session, unit.clock.now()
    lock_agreement(session, agreement.key)
    guard(unit, agreement)
    today = now.astimezone(ZoneInfo(agreement.timezone)).date()
    start = start or default_start(agreement, today)
    if end <= start:
        raise RenewalError(_l("the new period must end after it starts (%(start)s)", start=start.isoformat()))
    if start <= agreement.period_start:
        raise RenewalError(
            _l(
                "the new period must start after the old one did (%(start)s)",
                start=agreement.period_start.isoformat(),
            )
        )
    before = (agreement.period_start, agreement.period_end)
    unit.audit(
        "renew",
        "agreement",
        agreement.key,
        before={"period_start": before[0].isoformat(), "period_end": before[1].isoformat()},
        after={"period_start": start.isoformat(), "period_end": end.isoformat()},
    )
    agreement.period_start, agreement.period_end = start, end
    session.flush()
    opened = _open_first_year(session, unit, agreement, start.year)
    acknowledged = _acknowledge_stale(unit, agreement, start)
    _reschedule(session, agreement)
    return Renewal(agreement.key, before, (start, end), opened, acknowledged)


def _open_first_year(session: Session, unit: UnitOfWork, agreement: Agreement, year: int) -> int | None:
    """Open the cycle of the new period's first year (the existing rules), and plan every year's meetings."""
    opened = None
    if session.scalar(select(Cycle.id).where(Cycle.agreement_id == agreement.id, Cycle.year == year)) is None:
        unfinished = list(
            session.scalars(
                select(Activity).where(Activity.agreement_id == agreement.id, Activity.state.in_(UNFINISHED))
            )
        )
        open_cycle(session, unit, agreement, year, unfinished)
        opened = year
    ensure_first_cycle(session, unit, agreement)
    return opened


def _acknowledge_stale(unit: UnitOfWork, agreement: Agreement, start: date) -> tuple[str, ...]:
    """Activities already late before the new period starts are acknowledged by the renewal: the
    coordinator renewing has seen them, and a stale ladder must not reach management on day one.
    A new deadline (an extension, the new year's plan) starts the ladder again."""
    stale = []
    now = unit.clock.now()
    for activity in unit.session.scalars(
        select(Activity)
        .where(Activity.agreement_id == agreement.id, Activity.state.in_(UNFINISHED))
        .order_by(Activity.key)
    ):
        deadline = effective_deadline(activity.deadline, activity.extended_deadline)
        if deadline is not None and deadline < start and activity.acknowledged_at is None:
            activity.acknowledged_at = now
            unit.audit("acknowledge", "activity", activity.key, after={"acknowledged_at": now.isoformat()})
            stale.append(activity.key)
    return tuple(stale)


def _reschedule(session: Session, agreement: Agreement) -> None:
    """Every item's next action worked out afresh for the new period (an ended agreement had none)."""
    reminders_sweep.refresh_next_action(
        session, session.scalars(select(Activity).where(Activity.agreement_id == agreement.id))
    )
    meetings_sweep.refresh_next_action(
        session, session.scalars(select(Meeting).where(Meeting.agreement_id == agreement.id))
    )


def archive(unit: UnitOfWork, agreement: Agreement) -> int:
    """Keep the agreement read-only: nothing more is sent for it, and every later write is refused.
    Returns how many notices that had not left were cancelled."""
    session, now = unit.session, unit.clock.now()
    lock_agreement(session, agreement.key)
    guard(unit, agreement)
    unit.audit("archive", "agreement", agreement.key, after={"archived_at": now.isoformat()})
    agreement.archived_at = now
    session.flush()
    return stop_agreement(session, agreement, now) or 0
