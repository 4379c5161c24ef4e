"""`trygg report`: the yearly follow-up report to police and municipal leadership, as HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from tasks.commands.common import AgreementOpt, agreement_transaction, console
from workflow.i18n import _, _l
from workflow.report.render import render_report
from workflow.report.yearly import yearly_report
from workflow.settings import VAR_DIR


def report(
    year: Annotated[int, typer.Option("--year", help=_l("the year of operations"))],
    out: Annotated[
        Path | None, typer.Option("--out", help=_l("the HTML file (default: var/reports/ID-YEAR.html)"))
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help=_l("sv or en"))] = "sv",
    agreement: AgreementOpt = None,
) -> None:
    """The yearly report."""
    if lang not in ("sv", "en"):
        raise typer.BadParameter(_("sv or en"), param_hint="--lang")
    with agreement_transaction(agreement) as (session, agr, sync):
        data = yearly_report(session, agr, year, sync.clock.now().date())
        html = render_report(data, _lang(lang))
        target = out or VAR_DIR / "reports" / f"{agr.key}-{year}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    console.print(
        _("The %(year)s report is written: %(target)s", year=year, target=target),
        highlight=False,
    )


def _lang(value: str) -> Literal["sv", "en"]:
    return "en" if value == "en" else "sv"
