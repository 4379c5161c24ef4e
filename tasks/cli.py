"""The `trygg` command line: every subcommand, put together (each lives in tasks/commands/)."""

from __future__ import annotations

import typer

from tasks.commands import (
    activity,
    agreement,
    calendar,
    cycle,
    db,
    engine,
    meeting,
    plan,
    report,
    simulate,
    synthetic,
)

app = typer.Typer(
    help="trygg: samverkan kommun–polis i brottsförebyggande arbete / crime-prevention workflow",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("check")(agreement.check)
app.command("load")(agreement.load)
app.command("status")(agreement.status_command)
app.command("examples")(agreement.examples)
app.command("calendar")(calendar.calendar)
app.command("report")(report.report)
app.command("simulate")(simulate.simulate_command)
app.add_typer(plan.app, name="plan")
app.add_typer(cycle.app, name="cycle")
app.add_typer(meeting.app, name="meeting")
app.add_typer(db.app, name="db")
app.add_typer(activity.app, name="activity")
app.command("sweep")(engine.sweep)
app.command("worker")(engine.worker)
app.command("scheduler")(engine.scheduler)
app.command("run")(engine.run)
app.command("health")(engine.health)
app.command("synthetic")(synthetic.synthetic)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
