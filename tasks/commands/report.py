"""`trygg report`: the yearly follow-up report to police and municipal leadership, as HTML."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from tasks.commands.common import (
    AgreementOpt,
    agreement_transaction,
    console,
    output_failed,
    period_of,
    warn_if_far,
    write_output,
    year_option,
)
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
    year_option(year)
    with agreement_transaction(agreement) as (session, agr, sync):
        warn_if_far("--year", year, (date(year, 1, 1), date(year, 12, 31)), period_of(agr))
        data = yearly_report(session, agr, year, sync.clock.now().date())
        html = render_report(data, _lang(lang))
        target = out or VAR_DIR / "reports" / f"{agr.key}-{year}.html"
    if out is None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            output_failed(exc, target, "--out")
    write_output(target, html, "--out")
    console.print(
        _("The %(year)s report is written: %(target)s", year=year, target=target),
        highlight=False,
    )


def _lang(value: str) -> Literal["sv", "en"]:
    return "en" if value == "en" else "sv"
