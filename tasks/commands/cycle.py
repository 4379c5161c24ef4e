"""The five-step cycle: `trygg cycle status|deliver|close-step|override`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tasks.commands.common import AgreementOpt, JsonFlag, agreement_transaction, console, print_json
from workflow.cycle.lifecycle import (
    close_step,
    current_cycle,
    cycle_status,
    record_deliverable,
    refresh_automatic,
)
from workflow.i18n import _, _l, _p, _pl

app = typer.Typer(help=_l("The five-step cycle that never stops"), no_args_is_help=True)

YearOpt = Annotated[int | None, typer.Option("--year", help=_l("the cycle's year (default: the open cycle)"))]
StepArg = Annotated[int, typer.Argument(min=1, max=5, help=_l("step 1–5"))]

STATES = {"pending": _pl("step", "pending"), "open": _pl("step", "open"), "closed": _pl("step", "closed")}


@app.command("status", help=_l("The cycle's steps, deliverables and activities."))
def status(agreement: AgreementOpt = None, year: YearOpt = None, as_json: JsonFlag = False) -> None:
    """The cycle's steps, deliverables, activities."""
    with agreement_transaction(agreement) as (session, agr, sync):
        cycle = current_cycle(session, agr, year)
        refresh_automatic(session, sync, agr, cycle)
        data = cycle_status(session, agr, cycle)
    if as_json:
        print_json(data)
        return
    state = _p("cycle", "closed") if data["state"] == "closed" else _p("cycle", "open")
    console.rule("[bold]" + _("Cycle %(year)s", year=data["year"]) + f"[/] ({data['agreement']}, {state})")
    table = Table(expand=True)
    for column in (
        _("Step"),
        _("Window"),
        _("State"),
        _("Deliverables"),
    ):
        table.add_column(column)
    for step in data["steps"]:
        done = "\n".join(("✓ " if d["done"] else "· ") + d["title"] for d in step["deliverables"])
        label = str(STATES[step["state"]])
        if step["override_reason"]:
            label += _(" (overridden)")
        table.add_row(
            f"{step['number']}. {step['title']}",
            f"{step['window']['start']} – {step['window']['end']}",
            label,
            done,
        )
    console.print(table)
    carried = [a["id"] for a in data["activities"] if a["carried_over"]]
    console.print(
        _("%(n_activities)s activities", n_activities=len(data["activities"]))
        + (_(", carried over: %(carried)s", carried=", ".join(carried)) if carried else "")
    )


@app.command("deliver", help=_l("Report a deliverable done."))
def deliver_command(
    step: StepArg,
    key: Annotated[str, typer.Argument(help=_l("the deliverable's key (see `trygg cycle status --json`)"))],
    note: Annotated[str | None, typer.Option("--note", help=_l("a note"))] = None,
    agreement: AgreementOpt = None,
    year: YearOpt = None,
) -> None:
    """Report a deliverable done."""
    with agreement_transaction(agreement) as (session, agr, sync):
        cycle = current_cycle(session, agr, year)
        d = record_deliverable(session, sync, cycle, step, key, note)
        console.print(_("Done: %(title)s", title=d.title))


@app.command("close-step", help=_l("Close a step whose deliverables are done."))
def close_step_command(step: StepArg, agreement: AgreementOpt = None, year: YearOpt = None) -> None:
    """Close a step whose deliverables are done."""
    _close(step, agreement, year, None)


@app.command("override", help=_l("Close a step despite missing deliverables, with a reason (audited)."))
def override_command(
    step: StepArg,
    reason: Annotated[
        str, typer.Option("--reason", help=_l("why the step closes without all its deliverables"))
    ],
    agreement: AgreementOpt = None,
    year: YearOpt = None,
) -> None:
    """Override: close a step despite missing deliverables, audited."""
    if not reason.strip():
        raise typer.BadParameter(_("a reason is required"), param_hint="--reason")
    _close(step, agreement, year, reason.strip())


def _close(step: int, agreement: str | None, year: int | None, reason: str | None) -> None:
    with agreement_transaction(agreement) as (session, agr, sync):
        cycle = current_cycle(session, agr, year)
        following = close_step(session, sync, agr, cycle, step, override_reason=reason)
        console.print(_("Step %(step)s (%(year)s) is closed.", step=step, year=cycle.year))
        if following is not None:
            carried = sum(1 for ca in following.activities if ca.carried_over)
            console.print(
                _(
                    "Cycle %(year)s is open; %(carried)s unfinished activities carried over.",
                    year=following.year,
                    carried=carried,
                )
            )
