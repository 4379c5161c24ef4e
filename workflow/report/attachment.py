"""The yearly report as the evaluation mail carries it: its totals and the report as an HTML file."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.report.render import render_report
from workflow.report.yearly import yearly_report


def evaluation_report(
    session: Session, agreement: Agreement, year: int, day: date, lang: str
) -> dict[str, Any]:
    """The report of `year` as of `day`, in the reader's language (`sv` or `en`)."""
    data = yearly_report(session, agreement, year, day)
    name = "annual-report" if lang == "en" else "arsrapport"
    return {
        "totals": data["totals"],
        "attachment": {
            "filename": f"{name}-{agreement.key}-{year}.html",
            "content_type": "text/html",
            "content": render_report(data, "en" if lang == "en" else "sv"),
        },
    }
