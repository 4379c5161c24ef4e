"""The yearly report as the evaluation mail carries it: its totals and the report as a PDF file."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.report.pdf import report_pdf
from workflow.report.render import render_report
from workflow.report.yearly import yearly_report


def evaluation_report(
    session: Session, agreement: Agreement, year: int, day: date, lang: str
) -> dict[str, Any]:
    """The report of `year` as of `day`, in the reader's language (`sv` or `en`)."""
    data = yearly_report(session, agreement, year, day)
    name = "annual-report" if lang == "en" else "arsrapport"
    pdf = report_pdf(render_report(data, "en" if lang == "en" else "sv"))
    return {
        "totals": data["totals"],
        "activities": data["activities"],
        # Made before the year's last deadlines, the figures say so (the report's own test, one place).
        "provisional": (
            {"pending": data["provisional"].pending, "last": data["provisional"].last.isoformat()}
            if data["provisional"]
            else None
        ),
        "plan": {"own": data["plan"]["own"], "year": data["plan"]["year"]},
        # The notice's payload is JSON: the PDF rides in it as base64 (outbox.render.Attachment).
        "attachment": {
            "filename": f"{name}-{agreement.key}-{year}.pdf",
            "content_type": "application/pdf",
            "content_base64": base64.b64encode(pdf).decode("ascii"),
        },
    }
