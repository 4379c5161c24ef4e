"""A lease row with an expiry: only its holder acts, and a holder that died is replaced after it.

Each step is one atomic statement (no get-then-set), and the row survives a database restart,
which a PostgreSQL advisory lock would not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.engine.models import Lease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while another holds it."""
    renewed = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount == 1:
        return True
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    created = session.execute(
        insert(Lease)
        .values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(Lease.name)
    )
    return created.first() is not None


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up at a clean shutdown, so a standby takes over at once."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
