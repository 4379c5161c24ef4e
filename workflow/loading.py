"""Loading an agreement file or importing a plan: the one place that runs the steps in order.

The agreement's own rows, then its plan, then its first cycle, then the refresh of every next
action that may have moved, and the notices of people the file no longer names are made moot.
Each step returns what it changed; none calls back up.

Loads of one agreement take turns: on PostgreSQL a transaction-level advisory lock on the
agreement's id (as the file names it, so a first load is covered too) makes a second load wait
and then apply on top of the first, never a mix of both. On SQLite, BEGIN IMMEDIATE already
lets one writer in at a time.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.agreement.lifecycle import require_writable
from workflow.agreement.load import mark_source, plan_from_agreement, write_agreement
from workflow.agreement.models import Agreement, Organisation, Person
from workflow.agreement.validate import AgreementFile
from workflow.audit import LoadResult, UnitOfWork
from workflow.clock import Clock
from workflow.cycle.lifecycle import ensure_first_cycle
from workflow.meetings import sweep as meetings_sweep
from workflow.meetings.models import Meeting
from workflow.outbox.notices import cancel_notices, cancel_notices_to
from workflow.plan.extensions import moot_pending
from workflow.plan.importing import PlanImport, WithdrawalRefused, withdrawal_problem
from workflow.plan.load import load_plan
from workflow.plan.models import Activity, ActivityState, ExtensionRequest, ExtensionStatus
from workflow.reminders import sweep as reminders_sweep
from workflow.source import InputError


def lock_key(agreement_key: str) -> int:
    """A stable signed 64-bit number for an agreement's id (the same in every process)."""
    digest = hashlib.blake2b(f"trygg.load:{agreement_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_agreement(session: Session, agreement_key: str) -> None:
    """Wait until no other transaction loads this agreement; held until this one ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(lock_key(agreement_key))))


def load_agreement(session: Session, af: AgreementFile, *, clock: Clock, actor: str) -> LoadResult:
    """Write a validated agreement in the caller's transaction. The same file twice changes nothing."""
    lock_agreement(session, af.spec.id)
    stored = session.scalar(select(Agreement).where(Agreement.key == af.spec.id))
    if stored is not None:
        require_writable(stored)
    written = write_agreement(session, af, clock=clock, actor=actor)
    agreement, unit = written.agreement, written.unit
    touched = load_plan(session, unit, agreement, plan_from_agreement(af), written.organisations)
    if written.schedule_changed:
        # New stages, send hour or calendar: every activity's next action moves, not only
        # those whose plan row changed; the meetings' notices move with them.
        touched = session.scalars(select(Activity).where(Activity.agreement_id == agreement.id))
    reminders_sweep.refresh_next_action(session, touched)
    moot_requests_of_settled(session, agreement.id, clock, actor)
    ensure_first_cycle(session, unit, agreement)
    if written.schedule_changed:
        meetings_sweep.refresh_next_action(
            session, session.scalars(select(Meeting).where(Meeting.agreement_id == agreement.id))
        )
    # A person retired by this load gets nothing more, not even what was already pending.
    retired = session.scalars(
        select(Person.id).where(Person.agreement_id == agreement.id, Person.active.is_(False))
    )
    cancel_notices_to(session, list(retired), clock.now())
    mark_source(written, af, clock)
    return unit.result


def import_plan(
    session: Session, plan_import: PlanImport, *, clock: Clock, actor: str, allow_withdraw: bool = False
) -> LoadResult:
    """Write a checked import as the plan version of its year, in the caller's transaction.
    Withdrawing more than a third of the plan's activities needs `allow_withdraw`."""
    if plan_import.problems:
        raise InputError(plan_import.problems)
    agreement = plan_import.agreement
    lock_agreement(session, agreement.key)
    require_writable(agreement)
    active = session.scalar(
        select(func.count())
        .select_from(Activity)
        .where(Activity.agreement_id == agreement.id, Activity.state != ActivityState.WITHDRAWN)
    )
    unit = UnitOfWork(session, clock, actor, LoadResult(agreement.key, created=False))
    unit.agreement_id = agreement.id
    orgs = {
        o.key: o
        for o in session.scalars(select(Organisation).where(Organisation.agreement_id == agreement.id))
    }
    touched = load_plan(session, unit, agreement, plan_import.content(), orgs)
    withdrawn = [
        key for action, entity, key in unit.result.changes if (action, entity) == ("retire", "activity")
    ]
    problem = withdrawal_problem(plan_import.document.file, withdrawn, active or 0)
    if problem is not None and not allow_withdraw:
        raise WithdrawalRefused([problem], list(unit.result.changes))  # the caller rolls back
    reminders_sweep.refresh_next_action(session, touched)
    moot_requests_of_settled(session, agreement.id, clock, actor)
    return unit.result


def moot_requests_of_settled(session: Session, agreement_id: int, clock: Clock, actor: str) -> None:
    """A withdrawn activity's pending extension requests need no decision: moot, with their notices."""
    settled = session.scalars(
        select(ExtensionRequest.activity_id)
        .join(Activity, Activity.id == ExtensionRequest.activity_id)
        .where(
            ExtensionRequest.agreement_id == agreement_id,
            ExtensionRequest.status == ExtensionStatus.PENDING,
            Activity.state.not_in(reminders_sweep.ACTIVE_STATES),
        )
    ).all()
    for request_id in moot_pending(session, set(settled), clock.now(), actor):
        cancel_notices(session, subject_type="extension_request", subject_id=request_id, now=clock.now())
