"""The engine: `trygg worker|scheduler|run|sweep|health`."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine, func, select

from tasks import runtime
from tasks.commands.common import (
    EXIT_STATE,
    JsonFlag,
    console,
    engine,
    err,
    instant_option,
    print_json,
    require_schema,
    warn_if_far,
)
from tasks.commands.web import DemoOpt, require_secret, start_web_child, stop_web_child
from workflow.agreement.models import Agreement
from workflow.clock import SystemClock
from workflow.db import session_factory
from workflow.engine.sweep import sweep_in
from workflow.i18n import _, _l, _p
from workflow.links.tokens import MIN_SECRET_LENGTH
from workflow.outbox.delivery import claimable, prepare
from workflow.outbox.models import Mail
from workflow.settings import get_settings
from workflow.status import STALE_AFTER, engine_status

EXIT_UNHEALTHY = 1

NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now",
        help=_l(
            "the instant to sweep at, ISO 8601 (2012-12-17T08:00:00+01:00); without a zone: TRYGG_TIMEZONE"
        ),
    ),
]
IntervalOpt = Annotated[int, typer.Option("--interval", min=5, max=3600, help=_l("seconds between ticks"))]


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def warn_if_weak_secret() -> None:
    """Once, as the command starts: links signed with a weak TRYGG_SECRET_KEY can be forged."""
    reason = runtime.secret_weakness()
    if reason is None:
        return
    if reason == "empty":
        why = _("TRYGG_SECRET_KEY is not set")
    elif reason == "the default":
        why = _("TRYGG_SECRET_KEY is the default change-me")
    else:
        why = _("TRYGG_SECRET_KEY is shorter than %(count)s characters", count=MIN_SECRET_LENGTH)
    err.print(
        _(
            "[yellow]Warning:[/] %(why)s: anyone could forge the links in the mails. Set a random key of at least %(count)s characters, e.g. the output of %(command)s.",
            why=why,
            count=MIN_SECRET_LENGTH,
            command="python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        ),
        highlight=False,
        soft_wrap=True,
    )


def worker(
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", help=_l("parallel tasks"))] = None,
    pool: Annotated[str, typer.Option("--pool", help=_l("prefork, threads or solo"))] = "prefork",
    loglevel: Annotated[str, typer.Option("--loglevel")] = "INFO",
) -> None:
    """Run a Celery worker."""
    if not get_settings().broker_url:
        err.print(_("[red]TRYGG_BROKER_URL is not set.[/] Without a broker, run [bold]trygg run[/]."))
        raise typer.Exit(EXIT_STATE)
    require_schema(engine())
    warn_if_weak_secret()
    # Celery is imported only by the commands that run it: every other command starts faster.
    from tasks.celery_app import app

    # A node name of its own, so that several workers on one host answer `inspect` apart.
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--pool={pool}",
        "--without-gossip",
        "--without-mingle",
        f"--hostname=trygg.{os.getpid()}@%h",
    ]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


def scheduler(interval: IntervalOpt = 60) -> None:
    """Run the clock: one sweep a minute through Celery."""
    if not get_settings().broker_url:
        err.print(_("[red]TRYGG_BROKER_URL is not set.[/] Without a broker, run [bold]trygg run[/]."))
        raise typer.Exit(EXIT_STATE)
    require_schema(engine())
    warn_if_weak_secret()
    _logging()
    from tasks import jobs
    from tasks.scheduler import Ticker, serve

    serve(Ticker(runtime.sessions(), lambda: jobs.sweep.delay(), interval=timedelta(seconds=interval)))


def run(interval: IntervalOpt = 60, demo: DemoOpt = False) -> None:
    """Everything on one machine: the web on TRYGG_WEB_BIND, the clock, sweep and delivery."""
    require_secret(demo)
    require_schema(engine())
    _logging()
    from tasks.scheduler import Ticker, serve

    def sweep_and_deliver() -> None:
        # The same functions the Celery tasks run, called in this process.
        runtime.beat("worker")
        runtime.run_sweep()
        runtime.run_delivery()

    site = start_web_child(demo)
    try:
        serve(Ticker(runtime.sessions(), sweep_and_deliver, interval=timedelta(seconds=interval)))
    finally:
        stop_web_child(site)


def sweep(
    now: NowOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help=_l("show what would go out, write and send nothing")),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """One sweep and delivery, in this process."""
    instant = SystemClock().now() if now is None else instant_option(now, "--now", get_settings().timezone)
    eng = engine()
    require_schema(eng)
    warn_if_weak_secret()
    _warn_if_far_from_every_period(eng, instant)
    if dry_run:
        data = _dry_run(instant)
    else:
        data = {
            "now": instant.isoformat(),
            "dry_run": False,
            "sweep": runtime.run_sweep(instant),
            "delivery": runtime.run_delivery(instant),
        }
    if as_json:
        print_json(data)
        return
    _show_sweep(data)


def _warn_if_far_from_every_period(eng: Engine, instant: datetime) -> None:
    """--now far from every loaded agreement's period is allowed (a drill) but likely a typo."""
    with session_factory(eng)() as session:
        start, end = session.execute(
            select(func.min(Agreement.period_start), func.max(Agreement.period_end))
        ).one()
    if start is not None:
        warn_if_far("--now", instant.isoformat(), (instant.date(), instant.date()), (start, end))


def _dry_run(instant: datetime) -> dict[str, Any]:
    """The sweep as it would be, rendered, then rolled back: nothing written, nothing sent."""
    settings = get_settings()
    sessions = session_factory(engine())
    links = runtime.link_settings()
    with sessions() as session:
        report = sweep_in(session, instant, ran_at=SystemClock().now())
        mails = []
        for mail_id in session.scalars(select(Mail.id).where(claimable(instant)).order_by(Mail.id)):
            letter = prepare(session, mail_id, instant, settings.mail_from, links)
            if letter is not None:
                mails.append(
                    {
                        "mail": mail_id,
                        "kind": letter.kind,
                        "to": letter.to[1],
                        "subject": letter.rendered.subject,
                        "reply": "dry run",
                    }
                )
        session.rollback()
    return {
        "now": instant.isoformat(),
        "dry_run": True,
        "sweep": report.as_json(),
        "delivery": {"sent": mails, "retrying": [], "failed": [], "cancelled": 0, "lost_claims": 0},
    }


def _show_sweep(data: dict[str, Any]) -> None:
    s, d = data["sweep"], data["delivery"]
    verb = _("would go out") if data["dry_run"] else _p("mails were", "sent")
    console.print(
        _(
            "Sweep %(now)s: %(items)s activities and %(meetings)s meetings decided, %(notices)s new notices, %(n_mails)s mails composed; %(n_sent)s %(verb)s.",
            now=data["now"],
            items=s["items"],
            meetings=s.get("meetings", 0),
            notices=s["notices"],
            n_mails=len(s["mails"]),
            n_sent=len(d["sent"]),
            verb=verb,
        ),
        highlight=False,
    )
    rows = [(m, _p("outcome", "sent") if not data["dry_run"] else "—") for m in d["sent"]]
    rows += [(m, _("retry at ") + m["next_attempt_at"]) for m in d["retrying"]]
    rows += [(m, _("failed")) for m in d["failed"]]
    if rows:
        table = Table(expand=True)
        for column in (_p("mail", "Kind"), _("To"), _("Subject"), _("Outcome")):
            table.add_column(column)
        for mail, outcome in rows:
            table.add_row(mail["kind"], mail["to"], mail["subject"], f"{outcome}\n{mail['reply']}")
        console.print(table)
    for problem in s["errors"]:
        err.print(f"[yellow]{problem}[/]")


def health(
    max_age: Annotated[
        int,
        typer.Option("--max-age", min=1, help=_l("seconds of silence tolerated")),
    ] = int(STALE_AFTER.total_seconds()),
    as_json: JsonFlag = False,
) -> None:
    """Exit 1 when stale."""
    eng = engine()
    require_schema(eng)
    with session_factory(eng)() as session:
        data = engine_status(session, SystemClock().now(), stale_after=timedelta(seconds=max_age))
    if as_json:
        print_json(data)
    else:
        show_engine(data)
    if not data["healthy"]:
        raise typer.Exit(EXIT_UNHEALTHY)


PROBLEMS = {
    "scheduler_never_ran": _l("the scheduler never ran"),
    "scheduler_stale": _l("the scheduler has not run lately"),
    "worker_never_ran": _l("no worker ever ran"),
    "worker_stale": _l("no worker has run lately"),
}


def show_engine(data: dict[str, Any]) -> None:
    """The engine's part of `trygg status` and `trygg health`, for people."""

    def seen(role: dict[str, Any]) -> str:
        if role["last_seen"] is None:
            return _("never")
        return _(
            "%(last_seen)s (%(age_seconds)s s ago)",
            last_seen=role["last_seen"],
            age_seconds=role["age_seconds"],
        )

    console.print(_("Scheduler: ") + seen(data["scheduler"]), highlight=False)
    console.print(_("Workers: ") + seen(data["workers"]), highlight=False)
    mails = data["mails"]
    console.print(
        _(
            "Mails: %(pending)s pending, %(sending)s sending, %(sent)s sent, %(failed)s failed, %(cancelled)s cancelled",
            pending=mails["pending"],
            sending=mails["sending"],
            sent=mails["sent"],
            failed=mails["failed"],
            cancelled=mails["cancelled"],
        ),
        highlight=False,
    )
    for problem in data["problems"]:
        err.print("[yellow]" + _("warning:") + f"[/] {PROBLEMS.get(problem, problem)}", highlight=False)
    if data.get("mails_failed_untold"):
        err.print(
            "[yellow]"
            + _("warning:")
            + "[/] "
            + _(
                "%(n)s failed mails nobody was told of (no coordinator, or the failure report itself "
                "failed): see the log and `trygg status --json`",
                n=data["mails_failed_untold"],
            ),
            highlight=False,
        )
    if data["healthy"]:
        console.print(_("[green]The engine is running.[/]"))
