"""Sign-in without passwords: a `sign_in` mail with a link valid for 15 minutes.

An unknown address gets nothing, and the caller answers the same either way, so the form does
not tell who has an account. Each request makes its own notice (the key holds the instant), so
asking again within the 15 minutes sends a fresh link.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.agreement.models import Person
from workflow.clock import Clock
from workflow.links.tokens import SIGN_IN_VALID
from workflow.outbox.notices import NoticeDraft, add_notices, notice_row


def person_of(session: Session, email: str) -> Person | None:
    """The first active person with this address (any case), across agreements."""
    address = email.strip().lower()
    if not address:
        return None
    return session.scalar(
        select(Person).where(func.lower(Person.email) == address, Person.active).order_by(Person.id).limit(1)
    )


def request_sign_in(session: Session, clock: Clock, email: str) -> None:
    """A `sign_in` notice, due now, for a known active address; nothing for an unknown one."""
    person = person_of(session, email)
    if person is None:
        return
    now = clock.now()
    draft = NoticeDraft("sign_in", person.id, f"sign_in:{now.isoformat()}", now)
    payload = {
        "email": person.email,
        "requested_at": now.isoformat(),
        "valid_minutes": int(SIGN_IN_VALID.total_seconds() // 60),
    }
    add_notices(
        session,
        [
            notice_row(
                agreement_id=person.agreement_id,
                subject_type="person",
                subject_id=person.id,
                draft=draft,
                payload=payload,
                now=now,
            )
        ],
    )
