"""The agreement's audit log on the desk: filter by person (actor), object (entity and key) and dates; paged."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from web.context import db
from web.desk.door import desk_agreement
from workflow.desk.auditlog import AuditFilter, audit_log, choices

bp = Blueprint("desk_audit", __name__)


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/agreements/<key>/audit")
def page(key: str):
    agreement = desk_agreement(key)
    wanted = AuditFilter(
        actor=request.args.get("actor") or None,
        entity=request.args.get("entity") or None,
        key=(request.args.get("key") or "").strip() or None,
        since=_day("since"),
        until=_day("until"),
    )
    found = audit_log(db(), agreement, wanted, request.args.get("page", 1, type=int))
    actors, entities = choices(db(), agreement.id)
    return render_template(
        "desk/audit.html",
        agreement=agreement,
        log=found,
        wanted=wanted,
        actors=actors,
        entities=entities,
        args={k: v for k, v in request.args.items() if k != "page" and v},
    )
