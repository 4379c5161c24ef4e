"""An agreement's life: its period, the grace for the last follow-up, and archived agreements read-only.

After `period_end + grace_days` the engine stops reminding and escalating for it; an archived
agreement is kept to be read, and every write path calls `require_writable` first.
"""

from __future__ import annotations

from datetime import date, timedelta

from workflow.agreement.models import Agreement
from workflow.i18n import _l


class ArchivedAgreement(PermissionError):
    """A write to an archived agreement: refused, nothing changed."""


def ends_on(agreement: Agreement) -> date:
    """The last day the engine still acts for the agreement: its period's end plus the grace."""
    return agreement.period_end + timedelta(days=agreement.grace_days or 0)


def has_ended(agreement: Agreement, day: date) -> bool:
    """Past its period and grace (or archived): nothing more is sent for it."""
    return agreement.archived_at is not None or day > ends_on(agreement)


def require_writable(agreement: Agreement) -> None:
    """Refuse any write to an archived agreement (ArchivedAgreement, with what to do instead)."""
    if agreement.archived_at is not None:
        raise ArchivedAgreement(
            _l(
                "the agreement %(key)s is archived (%(day)s): it is kept read-only; "
                "load it under a new id to start again",
                key=agreement.key,
                day=agreement.archived_at.date().isoformat(),
            )
        )
