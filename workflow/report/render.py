"""The yearly report as one HTML file (Jinja2): Swedish or English, charts inline, opens offline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from babel.dates import format_date, format_datetime, get_month_names
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflow.plan.standing import STANDING_EN, STANDING_SV, STANDINGS
from workflow.report import charts
from workflow.resources import templates_dir

TIMELINESS_SV = {"on_time": "i tid", "late": "försenad", "pending": "ej förfallen"}
TIMELINESS_EN = {"on_time": "on time", "late": "late", "pending": "not yet due"}


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir() / "reports"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    locale = "sv_SE" if lang == "sv" else "en_GB"
    env.filters["day"] = lambda d: format_date(d, "d MMMM y", locale=locale) if isinstance(d, date) else ""
    env.filters["moment"] = lambda d: (
        format_datetime(d, "d MMMM y HH:mm", locale=locale) if isinstance(d, datetime) else ""
    )
    return env


def render_report(data: dict[str, Any], lang: Literal["sv", "en"] = "sv") -> str:
    standing = STANDING_SV if lang == "sv" else STANDING_EN
    timeliness = TIMELINESS_SV if lang == "sv" else TIMELINESS_EN
    month_names = [
        get_month_names("abbreviated", locale="sv_SE" if lang == "sv" else "en_GB")[m] for m in range(1, 13)
    ]
    status_chart = charts.stacked_bars(
        [(a["title"], a["counts"]) for a in data["areas"]],
        STANDINGS,
        standing,
        title="Läget per prioriterat område" if lang == "sv" else "Status per priority area",
    )
    timeliness_chart = charts.monthly_columns(
        data["timeliness"],
        ("on_time", "late", "pending"),
        timeliness,
        month_names,
        title="Deadlines per månad" if lang == "sv" else "Deadlines per month",
    )
    template = _environment(lang).get_template("yearly.html")
    return template.render(
        r=data,
        L=LABELS[lang],
        lang=lang,
        standing=standing,
        standings=STANDINGS,
        status_chart=status_chart,
        timeliness_chart=timeliness_chart,
    )


# Every word of the report but the data, in both languages.
LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Årsuppföljning", "for": "till polis- och kommunledning", "as_of": "Läget per",
        "summary": "Sammanfattning", "activities": "Åtgärder", "areas": "Prioriterade områden",
        "activity": "Åtgärd", "owner": "Ansvarig", "when": "När", "deadline": "Senast", "status": "Läge",
        "note": "Senaste rapport", "done_on": "Klar", "follow_ups": "Uppföljningar",
        "due": "förfallna", "reported": "rapporterade", "check_ins": "Avstämningar kommun–polis",
        "council": "Hur rådet har fungerat", "meeting": "Möte", "held": "Hållet", "yes": "ja", "no": "nej",
        "minutes": "Anteckningar", "on_time": "i tid", "late": "sent", "missing": "saknas",
        "planned": "planerade", "held_n": "hållna", "cancelled": "inställda", "attendance": "Närvaro",
        "member": "Ledamot", "present": "närvarande", "guests": "Adjungerade", "organisation": "Organisation",
        "none": "Inga", "cycle": "Årets cykel", "step": "Steg", "overridden": "åsidosatt",
        "state_closed": "stängt", "state_open": "öppet", "state_pending": "väntar", "charts": "Diagram",
        "generated": "Skapad av trygg", "chart_status": "Åtgärdernas läge per prioriterat område",
        "chart_timeliness": "Deadlines per månad: klara i tid, försenade, ej förfallna",
    },
    "en": {
        "title": "Yearly follow-up", "for": "for police and municipal leadership", "as_of": "Status as of",
        "summary": "Summary", "activities": "Activities", "areas": "Priority areas",
        "activity": "Activity", "owner": "Responsible", "when": "When", "deadline": "Due", "status": "Status",
        "note": "Latest report", "done_on": "Done", "follow_ups": "Follow-ups",
        "due": "due", "reported": "reported", "check_ins": "Check-ins municipality–police",
        "council": "How the council worked", "meeting": "Meeting", "held": "Held", "yes": "yes", "no": "no",
        "minutes": "Minutes", "on_time": "on time", "late": "late", "missing": "missing",
        "planned": "planned", "held_n": "held", "cancelled": "cancelled", "attendance": "Attendance",
        "member": "Member", "present": "present", "guests": "Co-opted guests", "organisation": "Organisation",
        "none": "None", "cycle": "The year's cycle", "step": "Step", "overridden": "overridden",
        "state_closed": "closed", "state_open": "open", "state_pending": "pending", "charts": "Charts",
        "generated": "Made by trygg", "chart_status": "Activities by status, per priority area",
        "chart_timeliness": "Deadlines per month: met, late, not yet due",
    },
}  # fmt: skip
