"""`trygg synthetic`: write a synthetic agreement of any size (tests, fault runs, benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tasks.commands.common import console, day_option
from workflow.i18n import _, _l
from workflow.synthetic import write_deployment, write_synthetic


def synthetic(
    file: Annotated[
        Path, typer.Argument(help=_l("the file to write (a folder of files with --agreements above 1)"))
    ],
    around: Annotated[str, typer.Option("--around", help=_l("the day deadlines spread around, YYYY-MM-DD"))],
    activities: Annotated[
        int, typer.Option("--activities", min=1, help=_l("the number of activities"))
    ] = 100,
    people: Annotated[int, typer.Option("--people", min=4, help=_l("the number of people"))] = 20,
    spread: Annotated[int, typer.Option("--spread", min=0, help=_l("± days around --around"))] = 30,
    seed: Annotated[int, typer.Option("--seed", help=_l("the same seed gives the same file"))] = 1,
    agreements: Annotated[
        int,
        typer.Option(
            "--agreements", min=1, help=_l("this many agreements, one file each in the folder FILE")
        ),
    ] = 1,
) -> None:
    """Write a synthetic agreement file, or a deployment's many (--agreements)."""
    day = day_option(around, "--around")
    sizes = {"activities": activities, "people": people, "around": day, "spread_days": spread, "seed": seed}
    if agreements > 1:
        write_deployment(file, agreements=agreements, **sizes)
        console.print(
            _(
                "Wrote %(count)s agreements to %(folder)s: %(activities)s activities, %(people)s people each, around %(day)s.",
                count=agreements,
                folder=file,
                activities=activities,
                people=people,
                day=day,
            ),
            highlight=False,
        )
        return
    write_synthetic(file, **sizes)
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
