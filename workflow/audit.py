"""The audit log and the unit of work that writes it: every change, with who, when, what, before and after.

Who acted is an *actor*: `person:<id>` when a person acted (the web acts as the person),
`system` for the engine, `cli:<user>@<host>` for the command line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from workflow.clock import Clock
from workflow.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))  # create, update, retire, override, …
    entity: Mapped[str] = mapped_column(String(40))  # agreement, organisation, activity, …
    entity_key: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(2000))
    # How the change came: "web", "cli", "engine", "load" (None on rows older than the web).
    channel: Mapped[str | None] = mapped_column(String(20))


def record(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    agreement_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    channel: str | None = None,
) -> AuditEntry:
    """Add one audit row to the session's transaction (it commits or rolls back with the change)."""
    actor = checked_actor(actor)
    entry = AuditEntry(
        agreement_id=agreement_id,
        at=clock.now(),
        actor=actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        before=before,
        after=after,
        reason=reason,
        channel=channel or channel_of(actor),
    )
    session.add(entry)
    return entry


SYSTEM = "system"  # the engine acting on its own
_ACTOR = re.compile(r"system|cli:\S+|person:[1-9][0-9]*")


def channel_of(actor: str) -> str:
    """The channel a change came by when the caller does not say: a person acts on the web."""
    if actor == SYSTEM:
        return "engine"
    return "cli" if actor.startswith("cli:") else "web"


def person_actor(person_id: int) -> str:
    """The actor of a change a person made (through the web, as themselves)."""
    return f"person:{person_id}"


def cli_actor(user: str) -> str:
    """The actor of a change made on the command line by `user` (e.g. `anna@host`)."""
    return f"cli:{user}"


def checked_actor(actor: str) -> str:
    """`actor` if it says who acted in one of the three ways, else ValueError: no anonymous change."""
    if not _ACTOR.fullmatch(actor or ""):
        raise ValueError(f"an actor is 'system', 'cli:<user>' or 'person:<id>', not {actor!r}")
    return actor


Setter = Callable[[Any, Any], None]


@dataclass
class LoadResult:
    """What one load or import changed, in order."""

    agreement_key: str
    created: bool
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (action, entity, key)
    plan_revision: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


class UnitOfWork:
    """One transaction's changes by one actor: brings rows to what is wanted, one audit entry per change."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        actor: str,
        result: LoadResult | None = None,
        *,
        channel: str | None = None,
    ) -> None:
        self.session, self.clock, self.actor = session, clock, checked_actor(actor)
        self.channel = channel or channel_of(self.actor)
        self.result = result if result is not None else LoadResult("", created=False)
        self.agreement_id: int | None = None
        # Called before every change is recorded: raises to refuse it (an archived agreement's
        # `workflow.agreement.lifecycle.guard`); every write audits, so no write slips past.
        self.guard: Callable[[], None] | None = None

    def check(self) -> None:
        """Refuse a change the guard does not allow (before it is made or recorded)."""
        if self.guard is not None:
            self.guard()

    def audit(
        self,
        action: str,
        entity: str,
        key: str,
        before: Any = None,
        after: Any = None,
        reason: str | None = None,
    ) -> None:
        self.check()
        record(
            self.session,
            self.clock,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_key=key,
            agreement_id=self.agreement_id,
            before=before,
            after=after,
            reason=reason,
            channel=self.channel,
        )
        self.result.changes.append((action, entity, key))

    def rows(
        self,
        entity: str,
        existing: dict[str, Any],
        desired: dict[str, dict[str, Any]],
        create: Callable[[str], Any],
        *,
        setters: dict[str, tuple[Callable[[Any], Any], Setter]] | None = None,
        retire: Callable[[Any], tuple[dict, dict | None] | None] | None = None,
    ) -> dict[str, Any]:
        """Create, update (and retire) rows of one entity; returns key -> row for all desired."""
        setters = setters or {}
        out: dict[str, Any] = {}
        for key, fields in desired.items():
            row = existing.get(key)
            wanted = jsonable(fields)
            if row is None:
                row = create(key)
                self.session.add(row)
                self._apply(row, fields, setters)
                self.audit("create", entity, key, after=wanted)
            else:
                before = self._snapshot(row, fields, setters)
                if before != wanted:
                    self._apply(row, fields, setters)
                    self.audit("update", entity, key, before=before, after=wanted)
            out[key] = row
        if retire is not None:
            for key, row in existing.items():
                if key not in desired and (change := retire(row)) is not None:
                    self.audit("retire", entity, key, before=change[0], after=change[1])
        self.session.flush()
        return out

    @staticmethod
    def _snapshot(row: Any, fields: dict[str, Any], setters: dict) -> dict[str, Any]:
        snap = {}
        for name in fields:
            value = setters[name][0](row) if name in setters else getattr(row, name)
            snap[name] = jsonable(value)
        return snap

    @staticmethod
    def _apply(row: Any, fields: dict[str, Any], setters: dict) -> None:
        for name, value in fields.items():
            if name in setters:
                setters[name][1](row, value)
            else:
                setattr(row, name, value)


def deactivate(row: Any) -> tuple[dict, dict] | None:
    """Retire a row that left the file but may be referenced: it stays, inactive."""
    if not row.active:
        return None
    row.active = False
    return {"active": True}, {"active": False}


def delete(session: Session) -> Callable[[Any], tuple[dict, None]]:
    """Retire a row that only describes a relation (a signature, a membership): it goes."""

    def retire(row: Any) -> tuple[dict, None]:
        session.delete(row)
        return {"id": row.id}, None

    return retire
