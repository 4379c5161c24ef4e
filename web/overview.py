"""The leadership's overview (`/overview`) and the yearly report in the browser and as PDF.

Management and coordinators see the agreements where they hold those roles, administrators all;
every route asks `web.access` first. The figures come from `workflow.desk.overview` and the
report from `workflow.report`, so the page, the PDF and the evaluation mail say the same.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request, url_for

from web.access import agreement_for, require_access
from web.context import db, now
from web.language import page_language
from workflow.desk.access import OVERVIEW_ROLES
from workflow.desk.overview import leadership_overview, overview_page
from workflow.desk.standing import STAGES
from workflow.report import charts
from workflow.report.pdf import report_pdf
from workflow.report.render import render_report, stylesheet
from workflow.report.yearly import yearly_report

bp = Blueprint("overview", __name__)

PER_PAGE = 20  # agreements per page: a region's fit on one, a national deployment's 300 take fifteen
SEARCH_CHARS = 100


@bp.after_request
def _private(response: Response) -> Response:
    # The leadership's figures: a shared computer's cache must not keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/overview")
def overview():
    access = require_access()
    ids = access.agreement_ids(*OVERVIEW_ROLES)
    if ids is not None and not ids:
        abort(403)  # signed in, but leads and coordinates no agreement
    instant = now()
    search = request.args.get("q", "").strip()[:SEARCH_CHARS]
    listing = overview_page(db(), ids, search, request.args.get("page", 1, type=int), PER_PAGE)
    rows = leadership_overview(db(), listing.ids, instant)
    year = instant.year
    return render_template(
        "overview.html",
        rows=rows,
        listing=listing,
        search=search,
        year=year,
        stages=STAGES,
        trend=lambda row: charts.rate_trend(row.years, title=row.title),
    )


@bp.get("/overview/report.css")
def report_css():
    """The report's stylesheet for its web page (the CSP allows no inline style)."""
    return Response(stylesheet(), mimetype="text/css")


@bp.get("/agreements/<key>/report/<int:year>")
def report(key: str, year: int):
    html = _report_html(key, year, web=True)
    return Response(html, mimetype="text/html")


@bp.get("/agreements/<key>/report/<int:year>.pdf")
def report_as_pdf(key: str, year: int):
    pdf = report_pdf(_report_html(key, year, web=False))
    name = "annual-report" if page_language() == "en" else "arsrapport"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}-{key}-{year}.pdf"'},
    )


def _report_html(key: str, year: int, *, web: bool) -> str:
    agreement = agreement_for(key, *OVERVIEW_ROLES)
    if not agreement.period_start.year <= year <= agreement.period_end.year:
        abort(404)  # a year the agreement does not cover has no report
    today = now().astimezone(ZoneInfo(agreement.timezone)).date()
    data = yearly_report(db(), agreement, year, today)
    lang = "en" if page_language() == "en" else "sv"
    if not web:
        return render_report(data, lang)
    nav = {
        "overview": url_for("overview.overview"),
        "pdf": url_for("overview.report_as_pdf", key=key, year=year),
    }
    return render_report(data, lang, stylesheet_url=url_for("overview.report_css"), nav=nav)
