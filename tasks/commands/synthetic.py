"""`trygg synthetic`: write a synthetic agreement of any size (tests, fault runs, benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tasks.commands.common import console, day_option
from workflow.i18n import _, _l
from workflow.synthetic import write_synthetic


def synthetic(
    file: Annotated[Path, typer.Argument(help=_l("the file to write"))],
    around: Annotated[str, typer.Option("--around", help=_l("the day deadlines spread around, YYYY-MM-DD"))],
    activities: Annotated[
        int, typer.Option("--activities", min=1, help=_l("the number of activities"))
    ] = 100,
    people: Annotated[int, typer.Option("--people", min=4, help=_l("the number of people"))] = 20,
    spread: Annotated[int, typer.Option("--spread", min=0, help=_l("± days around --around"))] = 30,
    seed: Annotated[int, typer.Option("--seed", help=_l("the same seed gives the same file"))] = 1,
) -> None:
    """Write a synthetic agreement file."""
    day = day_option(around, "--around")
    write_synthetic(file, activities=activities, people=people, around=day, spread_days=spread, seed=seed)
    console.print(
        _(
            "Wrote %(file)s: %(activities)s activities, %(people)s people around %(day)s.",
            file=file,
            activities=activities,
            people=people,
            day=day,
        ),
        highlight=False,
    )
