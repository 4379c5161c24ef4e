"""Heartbeats: each scheduler tick and each worker task says "I ran", so silence can be noticed."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.engine.models import Heartbeat


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(session: Session, role: str, now: datetime, name: str | None = None) -> None:
    """Record that a process of `role` ran at `now` (one row per role and process)."""
    name = name or process_name()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(Heartbeat).values(role=role, name=name, started_at=now, last_seen_at=now)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["role", "name"], set_={"last_seen_at": stmt.excluded.last_seen_at}
        )
    )


def last_seen(session: Session) -> dict[str, tuple[datetime, int]]:
    """Per role: the latest heartbeat and how many processes of that role ever beat."""
    rows = session.execute(
        select(Heartbeat.role, func.max(Heartbeat.last_seen_at), func.count()).group_by(Heartbeat.role)
    ).all()
    return {role: (_aware(at), count) for role, at, count in rows}


def recent(session: Session, limit: int = 20) -> list[Heartbeat]:
    """The processes that beat most recently, newest first."""
    return list(session.scalars(select(Heartbeat).order_by(Heartbeat.last_seen_at.desc()).limit(limit)))


def _aware(value: datetime | str) -> datetime:
    # An aggregate may come back as SQLite stored it: naive UTC, or even its text form.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def prune(session: Session, before: datetime) -> None:
    """Forget processes silent since `before` (every restart of a worker makes a new row)."""
    session.execute(delete(Heartbeat).where(Heartbeat.last_seen_at < before))
