"""The agreement's audit log for the desk: filtered by who acted, what was changed and when; a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement, Person
from workflow.audit import AuditEntry

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # an actor as stored: person:<id>, system, cli:<user>
    entity: str | None = None  # activity, cycle_step, mail, …
    key: str | None = None  # part of the entity's key
    since: date | None = None  # local days, inclusive
    until: date | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    names: dict[str, str]  # actor → the person's name, for person:<id>
    page: int
    pages: int
    total: int


def audit_log(
    session: Session, agreement: Agreement, wanted: AuditFilter, page: int = 1, per_page: int = PER_PAGE
) -> AuditPage:
    """One page of the agreement's audit entries, newest first, matching `wanted`."""
    query = select(AuditEntry).where(AuditEntry.agreement_id == agreement.id)
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.entity:
        query = query.where(AuditEntry.entity == wanted.entity)
    if wanted.key:
        query = query.where(AuditEntry.entity_key.contains(wanted.key, autoescape=True))
    zone = ZoneInfo(agreement.timezone)
    if wanted.since:
        query = query.where(AuditEntry.at >= datetime.combine(wanted.since, time(), tzinfo=zone))
    if wanted.until:
        end = datetime.combine(wanted.until + timedelta(days=1), time(), tzinfo=zone)
        query = query.where(AuditEntry.at < end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    entries = list(
        session.scalars(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return AuditPage(entries, actor_names(session, agreement.id), page, pages, total)


def actor_names(session: Session, agreement_id: int) -> dict[str, str]:
    """person:<id> → name, for the agreement's people (also those no longer active)."""
    rows = session.execute(select(Person.id, Person.name).where(Person.agreement_id == agreement_id))
    return {f"person:{pid}": name for pid, name in rows}


def choices(session: Session, agreement_id: int) -> tuple[list[str], list[str]]:
    """The actors and entities that occur in the agreement's log, for the filter's lists."""
    where = AuditEntry.agreement_id == agreement_id
    actors = list(
        session.scalars(select(AuditEntry.actor).where(where).distinct().order_by(AuditEntry.actor))
    )
    entities = list(
        session.scalars(select(AuditEntry.entity).where(where).distinct().order_by(AuditEntry.entity))
    )
    return actors, entities
