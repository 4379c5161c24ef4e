"""Activities on the desk: how each stands, filtered by area, owner and status (GET parameters); CSV and XLSX of the rows shown."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request

from web.context import db, now
from web.desk.door import desk_agreement
from web.language import page_language
from workflow.desk.activities import (
    STATUSES,
    ActivityFilter,
    activity_rows,
    as_csv,
    as_xlsx,
    filter_choices,
)

bp = Blueprint("desk_activities", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _wanted() -> ActivityFilter:
    status = request.args.get("status") or None
    return ActivityFilter(
        area=request.args.get("area") or None,
        owner=request.args.get("owner") or None,
        status=status if status in STATUSES else None,
    )


@bp.get("/agreements/<key>/activities")
def page(key: str):
    agreement = desk_agreement(key)
    every = activity_rows(db(), agreement, now())
    wanted = _wanted()
    areas, owners = filter_choices(db(), agreement, every)
    return render_template(
        "desk/activities.html",
        agreement=agreement,
        rows=[row for row in every if wanted.keeps(row)],
        total=len(every),
        wanted=wanted,
        areas=areas,
        owners=owners,
        statuses=STATUSES,
        query=request.query_string.decode(),
    )


@bp.get("/agreements/<key>/activities.csv")
def csv_file(key: str):
    agreement = desk_agreement(key)
    rows = activity_rows(db(), agreement, now(), _wanted())
    return _download(
        as_csv(rows, page_language(), ZoneInfo(agreement.timezone)),
        "text/csv; charset=utf-8",
        f"{agreement.key}-aktiviteter.csv",
    )


@bp.get("/agreements/<key>/activities.xlsx")
def xlsx_file(key: str):
    agreement = desk_agreement(key)
    rows = activity_rows(db(), agreement, now(), _wanted())
    return _download(
        as_xlsx(rows, page_language(), ZoneInfo(agreement.timezone)),
        XLSX,
        f"{agreement.key}-aktiviteter.xlsx",
    )


def _download(body, mimetype: str, filename: str) -> Response:
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
