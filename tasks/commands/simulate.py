"""`trygg simulate`: see every mail an agreement will send, before it goes live."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tasks.commands.common import EXIT_INPUT, FileArg, console, err, print_json, report_problems, t
from workflow.resources import find_agreement_file
from workflow.simulation.behaviour import Behaviour
from workflow.simulation.run import simulate
from workflow.source import InputError


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"ogiltigt datum {value!r} (skriv ÅÅÅÅ-MM-DD)", param_hint=option) from None


def simulate_command(
    agreement: FileArg,
    start: Annotated[str, typer.Option("--from", help="första dag, ÅÅÅÅ-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="sista dag, ÅÅÅÅ-MM-DD")],
    out: Annotated[Path, typer.Option("--out", help="mapp för .eml, timeline.jsonl och årsrapporter")],
    seed: Annotated[int, typer.Option("--seed", help="samma frö ger samma förlopp")] = 1,
    on_time_rate: Annotated[
        float, typer.Option("--on-time-rate", min=0.0, max=1.0, help="andel som görs i tid")
    ] = 0.6,
    late_rate: Annotated[
        float, typer.Option("--late-rate", min=0.0, max=1.0, help="andel som görs för sent")
    ] = 0.3,
    quiet: Annotated[bool, typer.Option("--quiet", help="bara summeringen")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="summeringen som JSON")] = False,
) -> None:
    """Kör överenskommelsen i en simulerad tid: alla mejl, tidslinje och årsrapporter."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise typer.BadParameter(f"--to ({last}) är före --from ({first})", param_hint="--to")
    try:
        behaviour = Behaviour(seed=seed, on_time_rate=on_time_rate, late_rate=late_rate)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--on-time-rate/--late-rate") from None
    total = (last - first).days + 1
    with Progress(
        TextColumn(t("Simulerar", "Simulating")),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("", total=total)
        try:
            result = simulate(
                find_agreement_file(agreement),
                first,
                last,
                out,
                behaviour,
                on_day=lambda day: progress.update(task, advance=1, description=day.isoformat()),
            )
        except InputError as exc:
            report_problems(exc, as_json)
            raise typer.Exit(EXIT_INPUT) from None
    kinds = Counter(e["kind"] for e in result.timeline)
    months: dict[str, Counter] = {}
    for entry in result.timeline:
        months.setdefault(entry["at"][:7], Counter())[entry["kind"]] += 1
    if as_json:
        print_json(
            {
                "out": str(out),
                "mails": len(result.timeline),
                "kinds": dict(sorted(kinds.items())),
                "months": {m: dict(sorted(c.items())) for m, c in sorted(months.items())},
                "reports": [str(p) for p in result.reports],
                "actions": result.actions,
            }
        )
        return
    if not quiet:
        for entry in result.timeline:
            to = ", ".join(x.split(" <")[0] for x in entry["to"])
            console.print(
                f"{entry['at'][:16].replace('T', ' ')}  {entry['kind']:<18} {to:<18} {entry['subject']}",
                highlight=False,
                markup=False,
                overflow="ellipsis",
                no_wrap=True,
            )
    # Months down, and each month's kinds on one line: readable at any terminal width.
    table = Table(title=t("Mejl per månad och slag", "Mails per month and kind"))
    table.add_column(t("Månad", "Month"), no_wrap=True)
    table.add_column(t("Antal", "Mails"), justify="right")
    table.add_column(t("Slag", "Kinds"))
    for month, counts in sorted(months.items()):
        table.add_row(
            month, str(sum(counts.values())), ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        )
    table.add_row(
        t("Totalt", "Total"),
        str(len(result.timeline)),
        ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        style="bold",
    )
    console.print(table)
    console.print(
        t(
            f"{len(result.timeline)} mejl i {out / 'mail'}; tidslinjen i {out / 'timeline.jsonl'}; årsrapporter: ",
            f"{len(result.timeline)} mails in {out / 'mail'}; the timeline in {out / 'timeline.jsonl'}; reports: ",
        )
        + ", ".join(str(p) for p in result.reports),
        highlight=False,
    )
