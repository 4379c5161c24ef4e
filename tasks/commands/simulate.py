"""`trygg simulate`: see every mail an agreement will send, before it goes live."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tasks.commands.common import (
    EXIT_INPUT,
    FileArg,
    console,
    day_option,
    err,
    output_failed,
    print_json,
    report_problems,
)
from workflow.i18n import _, _l
from workflow.resources import find_agreement_file
from workflow.settings import get_settings
from workflow.simulation.behaviour import Behaviour
from workflow.simulation.run import Simulation, simulate
from workflow.source import InputError

# A day of simulation takes a sweep and a delivery: 1970–2200 would run for hours, and an
# agreement past its period sends nothing anyway.
MAX_DAYS = 3653


def simulate_command(
    agreement: FileArg,
    start: Annotated[str, typer.Option("--from", help=_l("the first day, YYYY-MM-DD"))],
    end: Annotated[str, typer.Option("--to", help=_l("the last day, YYYY-MM-DD"))],
    out: Annotated[
        Path,
        typer.Option("--out", help=_l("folder for the .eml files, timeline.jsonl and the yearly reports")),
    ],
    seed: Annotated[
        int, typer.Option("--seed", help=_l("the same seed gives the same course of events"))
    ] = 1,
    on_time_rate: Annotated[
        float, typer.Option("--on-time-rate", min=0.0, max=1.0, help=_l("the share done on time"))
    ] = 0.6,
    late_rate: Annotated[
        float, typer.Option("--late-rate", min=0.0, max=1.0, help=_l("the share done late"))
    ] = 0.3,
    quiet: Annotated[bool, typer.Option("--quiet", help=_l("only the summary"))] = False,
    as_json: Annotated[bool, typer.Option("--json", help=_l("the summary as JSON"))] = False,
) -> None:
    """Run the agreement in simulated time: every mail, the timeline and the yearly reports."""
    first, last = _days(start, end)
    try:
        behaviour = Behaviour(seed=seed, on_time_rate=on_time_rate, late_rate=late_rate)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--on-time-rate/--late-rate") from None
    result = _simulate_with_progress(find_agreement_file(agreement), first, last, out, behaviour, as_json)
    kinds = Counter(e["kind"] for e in result.timeline)
    months = _kinds_by_month(result.timeline)
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
        _print_timeline(result.timeline)
    console.print(_summary_table(kinds, months))
    console.print(
        _(
            "%(n_mails)s mails in %(mail)s; the timeline in %(timeline)s; reports: ",
            n_mails=len(result.timeline),
            mail=out / "mail",
            timeline=out / "timeline.jsonl",
        )
        + ", ".join(str(p) for p in result.reports),
        highlight=False,
    )


def _days(start: str, end: str) -> tuple[date, date]:
    """The first and last day of --from and --to: in the window, in order, at most MAX_DAYS apart."""
    first, last = day_option(start, "--from"), day_option(end, "--to")
    if last < first:
        raise typer.BadParameter(
            _("--to (%(last)s) is before --from (%(first)s)", last=last, first=first), param_hint="--to"
        )
    if (last - first).days >= MAX_DAYS:
        raise typer.BadParameter(
            _(
                "at most %(max)s days (10 years) in one simulation, not %(days)s",
                max=MAX_DAYS,
                days=(last - first).days + 1,
            ),
            param_hint="--from/--to",
        )
    return first, last


def _simulate_with_progress(
    agreement_file: Path, first: date, last: date, out: Path, behaviour: Behaviour, as_json: bool
) -> Simulation:
    """Run the simulation with a bar of days on stderr (none under --json); bad input exits."""
    with Progress(
        TextColumn(_("Simulating")),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("", total=(last - first).days + 1)
        try:
            return simulate(
                agreement_file,
                first,
                last,
                out,
                behaviour,
                on_day=lambda day: progress.update(task, advance=1, description=day.isoformat()),
                base_url=get_settings().base_url,
            )
        except InputError as exc:
            report_problems(exc, as_json)
            raise typer.Exit(EXIT_INPUT) from None
        except OSError as exc:  # --out a file, a folder not writable, a full disk
            output_failed(exc, out, "--out")


def _kinds_by_month(timeline: list[dict[str, Any]]) -> dict[str, Counter]:
    """'YYYY-MM' -> how many mails of each kind went out that month."""
    months: dict[str, Counter] = {}
    for entry in timeline:
        months.setdefault(entry["at"][:7], Counter())[entry["kind"]] += 1
    return months


def _print_timeline(timeline: list[dict[str, Any]]) -> None:
    """One line a mail: when, its kind, to whom, its subject."""
    for entry in timeline:
        to = ", ".join(x.split(" <")[0] for x in entry["to"])
        console.print(
            f"{entry['at'][:16].replace('T', ' ')}  {entry['kind']:<18} {to:<18} {entry['subject']}",
            highlight=False,
            markup=False,
            overflow="ellipsis",
            no_wrap=True,
        )


def _summary_table(kinds: Counter, months: dict[str, Counter]) -> Table:
    # Months down, and each month's kinds on one line: readable at any terminal width.
    table = Table(title=_("Mails per month and kind"))
    table.add_column(_("Month"), no_wrap=True)
    table.add_column(_("Mails"), justify="right")
    table.add_column(_("Kinds"))
    for month, counts in sorted(months.items()):
        table.add_row(
            month, str(sum(counts.values())), ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        )
    table.add_row(
        _("Total"),
        str(sum(kinds.values())),
        ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        style="bold",
    )
    return table
