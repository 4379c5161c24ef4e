"""GET /healthz: 200 when the database answers `SELECT 1`, 503 otherwise (never its URL or password)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.context import db, now

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checked_at = now().isoformat()
    try:
        db().execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        # The kind of failure only: a driver's message may quote the host, user or password.
        return jsonify(status="unavailable", database=type(exc).__name__, at=checked_at), 503
    return jsonify(status="ok", database="ok", at=checked_at)
