"""The `trygg` command line: every subcommand, put together (each lives in tasks/commands/)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from tasks.commands import (
    activity,
    admin,
    agreement,
    calendar,
    cycle,
    db,
    engine,
    export,
    lifecycle,
    mail,
    meeting,
    plan,
    report,
    simulate,
    synthetic,
    web,
)
from tasks.commands.common import EXIT_INPUT, database_unreachable
from workflow.i18n import _, _l
from workflow.settings import SettingError

app = typer.Typer(
    help=_l("trygg: the crime-prevention partnership of municipality and police"),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("check", help=_l("Validate an agreement without writing anything."))(agreement.check)
app.command("load", help=_l("Load (or update) an agreement in one transaction."))(agreement.load)
app.command("status", help=_l("Status per priority area, and the engine's health."))(agreement.status_command)
app.command(
    "export", help=_l("Write an agreement as the database has it, as a file that loads to no change.")
)(export.export)
app.command("examples", help=_l("The example agreements shipped with trygg."))(agreement.examples)
app.command(
    "calendar",
    help=_l("The calendar: deadlines, follow-ups, council meetings, check-ins, review, evaluation."),
)(calendar.calendar)
app.command(
    "report", help=_l("The yearly follow-up as HTML, with charts, for police and municipal leadership.")
)(report.report)
app.command(
    "simulate",
    help=_l("Run the agreement in simulated time: every mail, the timeline and the yearly reports."),
)(simulate.simulate_command)
app.add_typer(lifecycle.app, name="agreement")
app.add_typer(admin.app, name="admin")
app.add_typer(plan.app, name="plan")
app.add_typer(cycle.app, name="cycle")
app.add_typer(meeting.app, name="meeting")
app.add_typer(db.app, name="db")
app.add_typer(activity.app, name="activity")
app.add_typer(mail.app, name="mail")
app.command("sweep", help=_l("One sweep and one delivery now, or at --now, in this process."))(engine.sweep)
app.command("worker", help=_l("Run a Celery worker (needs TRYGG_BROKER_URL)."))(engine.worker)
app.command(
    "scheduler", help=_l("Run the clock: a sweep a minute through Celery; one scheduler acts at a time.")
)(engine.scheduler)
app.command("run", help=_l("Everything in one process without servers: clock, sweep and delivery."))(
    engine.run
)
app.command("web", help=_l("Serve the web (gunicorn): the pages of the links in mails, sign-in, My tasks."))(
    web.web
)
app.command("health", help=_l("Exit with 1 when the scheduler or the workers have not run lately."))(
    engine.health
)
app.command("synthetic", help=_l("Write a synthetic agreement file."))(synthetic.synthetic)


def main() -> None:
    try:
        app()
    except SettingError as exc:
        # Named, never echoed: the value of a URL setting may hold a password.
        Console(stderr=True).print(
            "[red]" + _("Settings error:") + f"[/] {exc}", highlight=False, soft_wrap=True
        )
        raise SystemExit(EXIT_INPUT) from None
    except OperationalError as exc:  # the database went away after the command's first check
        try:
            database_unreachable(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
