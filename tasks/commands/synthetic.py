"""`trygg synthetic`: write a synthetic agreement of any size (tests, fault runs, benchmarks)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tasks.commands.common import EXIT_INPUT, console, err, t
from workflow.synthetic import write_synthetic


def synthetic(
    file: Annotated[Path, typer.Argument(help="filen att skriva / the file to write")],
    around: Annotated[str, typer.Option("--around", help="dagen som deadlines sprids kring, ÅÅÅÅ-MM-DD")],
    activities: Annotated[int, typer.Option("--activities", min=1, help="antal aktiviteter")] = 100,
    people: Annotated[int, typer.Option("--people", min=4, help="antal personer")] = 20,
    spread: Annotated[int, typer.Option("--spread", min=0, help="± dagar kring --around")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="samma frö ger samma fil / same seed, same file")] = 1,
) -> None:
    """Skriv en syntetisk överenskommelse / write a synthetic agreement file."""
    try:
        day = date.fromisoformat(around)
    except ValueError:
        err.print(
            t(
                f"[red]--around: {around!r} är inte ett datum[/]",
                f"[red]--around: {around!r} is not a date[/]",
            )
        )
        raise typer.Exit(EXIT_INPUT) from None
    write_synthetic(file, activities=activities, people=people, around=day, spread_days=spread, seed=seed)
    console.print(
        t(
            f"Skrev {file}: {activities} aktiviteter, {people} personer kring {day}.",
            f"Wrote {file}: {activities} activities, {people} people around {day}.",
        ),
        highlight=False,
    )
