"""`trygg agreement renew|archive`: the end of an agreement's period, decided by its coordinator."""

from __future__ import annotations

from typing import Annotated

import typer

from tasks.commands.common import (
    EXIT_INPUT,
    JsonFlag,
    agreement_transaction,
    console,
    day_option,
    err,
    print_json,
)
from workflow.desk.lifecycle import RenewalError, archive, renew
from workflow.i18n import _, _l

app = typer.Typer(help=_l("An agreement's period: renew it or archive it."), no_args_is_help=True)

AgreementArg = Annotated[str, typer.Argument(help=_l("the agreement's id"))]


@app.command("renew", help=_l("A new period for the agreement: its plan, people and schedules go on."))
def renew_command(
    agreement: AgreementArg,
    to: Annotated[str, typer.Option("--to", help=_l("the new period's last day, YYYY-MM-DD"))],
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help=_l("the new period's first day (default: the day after the old end, or today)")
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Renew the agreement: the same id, a new period, that year's cycle opened."""
    end = day_option(to, "--to")
    first = day_option(start, "--from") if start is not None else None
    try:
        with agreement_transaction(agreement) as (_session, agr, unit):
            done = renew(unit, agr, end=end, start=first)
    except RenewalError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    if as_json:
        print_json(
            {
                "agreement": done.agreement,
                "before": {"start": done.before[0].isoformat(), "end": done.before[1].isoformat()},
                "period": {"start": done.after[0].isoformat(), "end": done.after[1].isoformat()},
                "cycle_opened": done.cycle_opened,
                "acknowledged": list(done.acknowledged),
            }
        )
        return
    console.print(
        _(
            "Renewed: %(agreement)s runs %(start)s – %(end)s.",
            agreement=done.agreement,
            start=done.after[0].isoformat(),
            end=done.after[1].isoformat(),
        ),
        highlight=False,
    )
    if done.cycle_opened:
        console.print(_("The cycle of %(year)s is open.", year=done.cycle_opened))
    if done.acknowledged:
        console.print(
            _(
                "Already late before the new period, acknowledged (no escalation until a new deadline): %(keys)s",
                keys=", ".join(done.acknowledged),
            ),
            highlight=False,
        )


@app.command("archive", help=_l("Archive the agreement: kept, read-only, nothing more is sent."))
def archive_command(agreement: AgreementArg, as_json: JsonFlag = False) -> None:
    """Archive the agreement."""
    with agreement_transaction(agreement) as (_session, agr, unit):
        cancelled = archive(unit, agr)
        key = agr.key
    if as_json:
        print_json({"agreement": key, "archived": True, "cancelled_notices": cancelled})
        return
    console.print(_("Archived: %(agreement)s is kept read-only.", agreement=key), highlight=False)
    if cancelled:
        console.print(_("%(n)s notices that had not been sent were cancelled.", n=cancelled))
