"""The one way a sweep works through due items (activities, meetings): a batch at a time.

Only due rows are read (an index range on next_action_at); on PostgreSQL they are locked with
SKIP LOCKED, so two sweeps racing split the rows instead of both deciding them. Each row is
decided on its own: a row whose deciding fails is logged and looked at again an hour after the
sweep really ran (not after the instant it decided at, which `trygg sweep --now` may set far
ahead), it does not roll back the batch for everyone. The notices of the whole batch go in with one
statement per 500, keys already there skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, case, literal, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow.agreement.models import Agreement
from workflow.clock import LAST_YEAR
from workflow.outbox.notices import Decision, NoticeDraft, add_notices, notice_row
from workflow.outbox.stand_ins import StandIns

log = logging.getLogger(__name__)

RETRY_BROKEN_ROW = timedelta(hours=1)
_INSERT_CHUNK = 500

Decided = list[tuple[Any, Decision]]


T = TypeVar("T")


class PerAgreement(Generic[T]):
    """What deciding needs of each agreement (its settings, its people), read once per batch."""

    def __init__(self, session: Session, read: Callable[[Session, Agreement], T]) -> None:
        self.session, self.read = session, read
        self._known: dict[int, T] = {}

    def __call__(self, item: Any) -> T:
        """What `item` (an activity, a meeting: anything with an agreement_id) is decided with."""
        known = self._known.get(item.agreement_id)
        if known is None:
            agreement = self.session.get(Agreement, item.agreement_id)
            known = self._known[item.agreement_id] = self.read(self.session, agreement)
        return known


@dataclass
class BatchResult:
    items: int = 0
    notices: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DueItems:
    """One kind of item the sweep decides: its due rows, how one is decided, what its mails say."""

    subject_type: str  # "activity", "meeting"
    model: Any  # the ORM class: id, key, agreement_id, next_action_at
    due: Callable[[datetime], Select]  # the rows due at an instant (filters only; ordered and locked here)
    # What deciding the batch needs, read once for all its rows (in a few queries, not one per
    # row); what it returns is handed to `decide` and `payloads`.
    prepare: Callable[[Session, Sequence[Any]], Any]
    decide: Callable[[Any, Any, datetime], Decision]  # (the batch's state, a row, now)
    # Given the batch's decided rows, what each notice's mail says: called once per batch.
    payloads: Callable[[Any, Decided, datetime], Callable[[Any, NoticeDraft], dict[str, Any]]]


def run_batch(
    session: Session,
    items: DueItems,
    now: datetime,
    *,
    limit: int = 200,
    ran_at: datetime | None = None,
    only: int | None = None,
) -> BatchResult:
    """Decide up to `limit` due items at `now` in the caller's transaction; their notices are made.
    `ran_at` is when the sweep really runs (the clock's time when `now` is simulated); `only`: the
    items of that agreement alone."""
    model = items.model
    retry_at = (ran_at or now) + RETRY_BROKEN_ROW
    rows = _due_rows(session, items, now, limit, only)
    result = BatchResult(items=len(rows))
    if not rows:
        return result
    state = items.prepare(session, rows)
    decided: Decided = []
    next_at: dict[int, datetime | None] = {}
    for row in rows:
        try:
            decision = items.decide(state, row, now)
            next_at[row.id] = _bounded(decision.next_action_at)
            if decision.notices:
                decided.append((row, decision))
        except Exception as exc:  # one broken row must not stop the others
            next_at[row.id] = _broken(result, items, row, exc, retry_at)
    payload_of = items.payloads(state, decided, now)
    # While someone is away their notices go to their deputy: decided here, in one place.
    stand_ins = StandIns(session, {row.agreement_id for row, _ in decided}, now) if decided else None
    notices: list[dict[str, Any]] = []
    for row, decision in decided:
        try:
            notices += [
                stand_ins.route(
                    notice_row(
                        agreement_id=row.agreement_id,
                        subject_type=items.subject_type,
                        subject_id=row.id,
                        draft=draft,
                        payload=payload_of(row, draft),
                        now=now,
                    )
                )
                for draft in decision.notices
            ]
        except Exception as exc:  # one broken row must not stop the others
            next_at[row.id] = _broken(result, items, row, exc, retry_at)
    for start in range(0, len(notices), _INSERT_CHUNK):
        result.notices += add_notices(session, notices[start : start + _INSERT_CHUNK])
    _look_again_at(session, model, rows, next_at)
    session.flush()
    return result


def _due_rows(session: Session, items: DueItems, now: datetime, limit: int, only: int | None) -> list[Any]:
    """The earliest `limit` rows due at `now`, locked (those another sweep holds are skipped)."""
    model, due = items.model, items.due(now)
    if only is not None:
        due = due.where(model.agreement_id == only)
    order = due.order_by(model.next_action_at, model.id)
    return list(session.scalars(order.limit(limit).with_for_update(skip_locked=True, of=model)))


def _look_again_at(
    session: Session, model: Any, rows: list[Any], next_at: dict[int, datetime | None]
) -> None:
    """Each row's next action, written for the whole batch in one statement per chunk (not an
    UPDATE per row from the session's flush); the rows in the session are told, not made dirty."""
    ids, type_ = list(next_at), model.__table__.c.next_action_at.type
    for start in range(0, len(ids), _INSERT_CHUNK):
        chunk = ids[start : start + _INSERT_CHUNK]
        session.execute(
            update(model)
            .where(model.id.in_(chunk))
            # Typed values: a batch whose rows all wait for someone (NULL) is still a timestamp.
            .values(next_action_at=case({i: literal(next_at[i], type_) for i in chunk}, value=model.id))
            .execution_options(synchronize_session=False)
        )
    for row in rows:
        set_committed_value(row, "next_action_at", next_at[row.id])


def _bounded(next_action_at: datetime | None) -> datetime | None:
    """A next action past the years trygg accepts is a bug in a rule, not a plan: the row counts as
    broken (and is retried) rather than parked where no sweep will ever reach it."""
    # A year of slack: reminders and escalations run on a little past a period's last day.
    if next_action_at is not None and next_action_at.year > LAST_YEAR + 1:
        raise ValueError(f"next action {next_action_at.isoformat()} is past {LAST_YEAR + 1}")
    return next_action_at


def _broken(result: BatchResult, items: DueItems, row: Any, exc: Exception, retry_at: datetime) -> datetime:
    """Log a row whose deciding failed; it is looked at again at `retry_at` (returned)."""
    log.exception("deciding %s %s failed", items.subject_type, row.key)
    result.errors.append(f"{row.key}: {exc}")
    return retry_at
