"""The five-step cycle: `trygg cycle status|deliver|close-step|override`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tasks.commands.common import AgreementOpt, JsonFlag, agreement_transaction, console, print_json, t
from workflow.cycle.lifecycle import (
    close_step,
    current_cycle,
    cycle_status,
    record_deliverable,
    refresh_automatic,
)

app = typer.Typer(help="Den femstegscykel som aldrig stannar / the five-step cycle", no_args_is_help=True)

YearOpt = Annotated[int | None, typer.Option("--year", help="cykelns år (standard: den öppna cykeln)")]
StepArg = Annotated[int, typer.Argument(min=1, max=5, help="steg 1–5")]

STATE_SV = {"pending": "väntar", "open": "öppet", "closed": "stängt"}


@app.command("status")
def status(agreement: AgreementOpt = None, year: YearOpt = None, as_json: JsonFlag = False) -> None:
    """Cykelns steg, leveranser och aktiviteter / the cycle's steps, deliverables, activities."""
    with agreement_transaction(agreement) as (session, agr, sync):
        cycle = current_cycle(session, agr, year)
        refresh_automatic(session, sync, agr, cycle)
        data = cycle_status(session, agr, cycle)
    if as_json:
        print_json(data)
        return
    state = t("stängd", "closed") if data["state"] == "closed" else t("öppen", "open")
    console.rule(f"[bold]{t('Cykel', 'Cycle')} {data['year']}[/] ({data['agreement']}, {state})")
    table = Table(expand=True)
    for column in (
        t("Steg", "Step"),
        t("Fönster", "Window"),
        t("Läge", "State"),
        t("Leveranser", "Deliverables"),
    ):
        table.add_column(column)
    for step in data["steps"]:
        done = "\n".join(("✓ " if d["done"] else "· ") + d["title"] for d in step["deliverables"])
        label = t(STATE_SV[step["state"]], step["state"])
        if step["override_reason"]:
            label += t(" (åsidosatt)", " (overridden)")
        table.add_row(
            f"{step['number']}. {step['title']}",
            f"{step['window']['start']} – {step['window']['end']}",
            label,
            done,
        )
    console.print(table)
    carried = [a["id"] for a in data["activities"] if a["carried_over"]]
    console.print(
        t(f"{len(data['activities'])} aktiviteter", f"{len(data['activities'])} activities")
        + (
            t(
                f", varav överförda från förra året: {', '.join(carried)}",
                f", carried over: {', '.join(carried)}",
            )
            if carried
            else ""
        )
    )


@app.command("deliver")
def deliver_command(
    step: StepArg,
    key: Annotated[str, typer.Argument(help="leveransens nyckel (se `trygg cycle status --json`)")],
    note: Annotated[str | None, typer.Option("--note", help="kommentar")] = None,
    agreement: AgreementOpt = None,
    year: YearOpt = None,
) -> None:
    """Rapportera en leverans klar / report a deliverable done."""
    with agreement_transaction(agreement) as (session, agr, sync):
        cycle = current_cycle(session, agr, year)
        d = record_deliverable(session, sync, cycle, step, key, note)
        console.print(t(f"Klar: {d.title}", f"Done: {d.title}"))


@app.command("close-step")
def close_step_command(step: StepArg, agreement: AgreementOpt = None, year: YearOpt = None) -> None:
    """Stäng ett steg när dess leveranser är klara / close a step whose deliverables are done."""
    _close(step, agreement, year, None)


@app.command("override")
def override_command(
    step: StepArg,
    reason: Annotated[str, typer.Option("--reason", help="varför steget stängs utan alla leveranser")],
    agreement: AgreementOpt = None,
    year: YearOpt = None,
) -> None:
    """Stäng ett steg trots saknade leveranser, med motivering (loggas) / override, audited."""
    if not reason.strip():
        raise typer.BadParameter("en motivering krävs", param_hint="--reason")
    _close(step, agreement, year, reason.strip())


def _close(step: int, agreement: str | None, year: int | None, reason: str | None) -> None:
    with agreement_transaction(agreement) as (session, agr, sync):
        cycle = current_cycle(session, agr, year)
        following = close_step(session, sync, agr, cycle, step, override_reason=reason)
        console.print(t(f"Steg {step} ({cycle.year}) är stängt.", f"Step {step} ({cycle.year}) is closed."))
        if following is not None:
            carried = sum(1 for ca in following.activities if ca.carried_over)
            console.print(
                t(
                    f"Cykel {following.year} är öppnad; {carried} ofärdiga aktiviteter förs över.",
                    f"Cycle {following.year} is open; {carried} unfinished activities carried over.",
                )
            )
