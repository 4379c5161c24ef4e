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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.agreement.lifecycle import require_writable
from workflow.agreement.load import mark_source, plan_from_agreement, write_agreement
from workflow.agreement.models import Agreement, Organisation, Person
from workflow.agreement.validate import AgreementFile
from workflow.audit import AuditEntry, LoadResult, UnitOfWork
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


@dataclass(frozen=True)
class WebEdit:
    """An edit made on the web, as the audit log has it (a copy: the load's transaction rolls back)."""

    at: datetime
    actor: str
    action: str
    entity: str
    key: str
    fields: tuple[str, ...]


class WouldRevertWebEdits(Exception):
    """The file would undo changes made on the web since the last load: `edits` names them."""

    def __init__(self, edits: list[WebEdit]) -> None:
        super().__init__(f"{len(edits)} edits made on the web would be reverted")
        self.edits = edits


def load_agreement(
    session: Session, af: AgreementFile, *, clock: Clock, actor: str, force: bool = False
) -> LoadResult:
    """Write a validated agreement in the caller's transaction. The same file twice changes nothing.
    A file that would undo edits made on the web since the last load raises WouldRevertWebEdits
    (the caller rolls back) unless `force`."""
    lock_agreement(session, af.spec.id)
    stored = session.scalar(select(Agreement).where(Agreement.key == af.spec.id))
    if stored is not None:
        require_writable(stored)
    last_entry = session.scalar(select(func.max(AuditEntry.id))) or 0
    since = stored.loaded_at if stored is not None else None
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
    if since is not None and not force:
        reverted = web_edits_reverted(session, agreement.id, since, last_entry)
        if reverted:
            raise WouldRevertWebEdits(reverted)
    mark_source(written, af, clock)
    return unit.result


def web_edits_reverted(
    session: Session, agreement_id: int, since: datetime, last_entry: int
) -> list[AuditEntry]:
    """The web's audited edits since `since` (up to entry `last_entry`) that the changes audited after
    `last_entry` — a load in this transaction — undo: a row it creates or retires again, or a field
    of a row both changed."""
    session.flush()
    changed: dict[tuple[str, str], set[str] | None] = {}
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.agreement_id == agreement_id, AuditEntry.id > last_entry)
    ):
        fields = _changed_fields(entry)
        known = changed.get((entry.entity, entry.entity_key), set())
        changed[(entry.entity, entry.entity_key)] = (
            None if fields is None or known is None else known | fields
        )
    if not changed:
        return []
    reverted = []
    for edit in session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.agreement_id == agreement_id,
            AuditEntry.channel == "web",
            AuditEntry.at > since,
            AuditEntry.id <= last_entry,
        )
        .order_by(AuditEntry.id)
    ):
        if (edit.entity, edit.entity_key) not in changed:
            continue
        undone = changed[(edit.entity, edit.entity_key)]
        edited = set(edit.after or {}) | set(edit.before or {})
        if undone is None or not edited or undone & edited:
            reverted.append(
                WebEdit(edit.at, edit.actor, edit.action, edit.entity, edit.entity_key, tuple(sorted(edited)))
            )
    return reverted


def _changed_fields(entry: AuditEntry) -> set[str] | None:
    """The fields an update changed; None for a whole row (created, retired, anything else)."""
    if entry.action != "update" or not isinstance(entry.before, dict) or not isinstance(entry.after, dict):
        return None
    return {k for k in entry.after if entry.before.get(k) != entry.after[k]}


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
