"""Bringing rows to what a file says: create, update or retire, with one audit entry per change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.audit import record
from workflow.clock import Clock

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


class Sync:
    """Brings rows to the desired fields and writes one audit entry per changed row."""

    def __init__(self, session: Session, clock: Clock, actor: str, result: LoadResult) -> None:
        self.session, self.clock, self.actor, self.result = session, clock, actor, result
        self.agreement_id: int | None = None

    def audit(
        self,
        action: str,
        entity: str,
        key: str,
        before: Any = None,
        after: Any = None,
        reason: str | None = None,
    ) -> None:
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
