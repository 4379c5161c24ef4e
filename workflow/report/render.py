"""The yearly report as one HTML file (Jinja2): Swedish or English, charts inline, opens offline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from babel.dates import format_date, format_datetime, get_month_names
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from workflow.i18n import _pl, gettext, render, translations
from workflow.plan.standing import STANDING_EN, STANDING_SV, STANDINGS
from workflow.report import charts
from workflow.resources import templates_dir

TIMELINESS = {
    "on_time": _pl("timeliness", "on time"),
    "late": _pl("timeliness", "late"),
    "pending": _pl("timeliness", "not yet due"),
}
MINUTES = {
    "on_time": _pl("report", "on time"),
    "late": _pl("report", "late"),
    "missing": _pl("report", "missing"),
}
LADDER = {
    "owner": _pl("ladder", "owners"),
    "coordinator": _pl("ladder", "coordinator"),
    "management": _pl("ladder", "management"),
}
STEP_STATES = {
    "closed": _pl("report", "closed"),
    "open": _pl("report", "open"),
    "pending": _pl("report", "pending"),
}


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir() / "reports"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    locale = "sv_SE" if lang == "sv" else "en_GB"
    env.filters["day"] = lambda d: format_date(d, "d MMMM y", locale=locale) if isinstance(d, date) else ""
    env.filters["moment"] = lambda d: (
        format_datetime(d, "d MMMM y HH:mm", locale=locale) if isinstance(d, datetime) else ""
    )
    return env


def stylesheet() -> str:
    """The report's CSS: inlined in the mailed file and the PDF, linked from the web page."""
    return (templates_dir() / "reports" / "yearly.css").read_text(encoding="utf-8")


def render_report(
    data: dict[str, Any],
    lang: Literal["sv", "en"] = "sv",
    *,
    stylesheet_url: str | None = None,
    nav: dict[str, str] | None = None,
) -> str:
    """The report as one HTML document; on the web its CSS is linked (`stylesheet_url`, no inline
    style under the CSP) and `nav` links back to the overview and to the PDF."""
    standing = STANDING_SV if lang == "sv" else STANDING_EN
    timeliness = {k: render(v, lang) for k, v in TIMELINESS.items()}
    month_names = [
        get_month_names("abbreviated", locale="sv_SE" if lang == "sv" else "en_GB")[m] for m in range(1, 13)
    ]
    status_chart = charts.stacked_bars(
        [(a["title"], a["counts"]) for a in data["areas"]],
        STANDINGS,
        standing,
        title=gettext("Status per priority area", lang),
    )
    timeliness_chart = charts.monthly_columns(
        data["timeliness"],
        ("on_time", "late", "pending"),
        timeliness,
        month_names,
        title=gettext("Deadlines per month", lang),
    )
    template = _environment(lang).get_template("yearly.html")
    return template.render(
        r=data,
        lang=lang,
        minutes_words={k: render(w, lang) for k, w in MINUTES.items()},
        step_states={k: render(w, lang) for k, w in STEP_STATES.items()},
        ladder_words={k: render(w, lang) for k, w in LADDER.items()},
        standing=standing,
        standings=STANDINGS,
        status_chart=status_chart,
        timeliness_chart=timeliness_chart,
        stylesheet=stylesheet_url,
        css=Markup("") if stylesheet_url else Markup(stylesheet()),
        nav=nav,
    )
