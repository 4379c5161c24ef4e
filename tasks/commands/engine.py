"""The engine: `trygg worker|scheduler|run|sweep|health`."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from tasks import runtime
from tasks.commands.common import (
    EXIT_INPUT,
    EXIT_STATE,
    JsonFlag,
    console,
    engine,
    err,
    print_json,
    require_schema,
    t,
)
from workflow.clock import SystemClock
from workflow.db import session_factory
from workflow.engine.sweep import sweep_in
from workflow.outbox.delivery import claimable, prepare
from workflow.outbox.models import Mail
from workflow.settings import get_settings
from workflow.status import STALE_AFTER, engine_status

EXIT_UNHEALTHY = 1

NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="ögonblicket att svepa vid, ISO 8601 (2012-12-17T08:00:00+01:00); utan zon: TRYGG_TIMEZONE "
        "/ the instant to sweep at",
    ),
]
IntervalOpt = Annotated[
    int, typer.Option("--interval", min=5, max=3600, help="sekunder mellan tick / seconds between ticks")
]


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def worker(
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", help="parallella uppgifter / parallel tasks")
    ] = None,
    pool: Annotated[str, typer.Option("--pool", help="prefork, threads eller solo")] = "prefork",
    loglevel: Annotated[str, typer.Option("--loglevel")] = "INFO",
) -> None:
    """Kör en Celery-worker (kräver TRYGG_BROKER_URL) / run a Celery worker."""
    if not get_settings().broker_url:
        err.print(
            t(
                "[red]TRYGG_BROKER_URL är inte satt.[/] Utan broker: kör [bold]trygg run[/].",
                "[red]TRYGG_BROKER_URL is not set.[/] Without a broker, run [bold]trygg run[/].",
            )
        )
        raise typer.Exit(EXIT_STATE)
    require_schema(engine())
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
    """Kör klockan: ett svep i minuten via Celery, en schemaläggare agerar åt gången / run the clock."""
    if not get_settings().broker_url:
        err.print(
            t(
                "[red]TRYGG_BROKER_URL är inte satt.[/] Utan broker: kör [bold]trygg run[/].",
                "[red]TRYGG_BROKER_URL is not set.[/] Without a broker, run [bold]trygg run[/].",
            )
        )
        raise typer.Exit(EXIT_STATE)
    require_schema(engine())
    _logging()
    from tasks import jobs
    from tasks.scheduler import Ticker, serve

    serve(Ticker(runtime.sessions(), lambda: jobs.sweep.delay(), interval=timedelta(seconds=interval)))


def run(interval: IntervalOpt = 60) -> None:
    """Allt i en process utan servrar: klocka, svep och utskick / everything in one process."""
    require_schema(engine())
    _logging()
    from tasks.scheduler import Ticker, serve

    def sweep_and_deliver() -> None:
        # The same functions the Celery tasks run, called in this process.
        runtime.beat("worker")
        runtime.run_sweep()
        runtime.run_delivery()

    serve(Ticker(runtime.sessions(), sweep_and_deliver, interval=timedelta(seconds=interval)))


def sweep(
    now: NowOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="visa vad som skulle gå ut, skriv och skicka inget / show, change nothing"
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Ett svep och ett utskick nu, eller vid --now / one sweep and delivery, in this process."""
    try:
        instant = runtime.parse_instant(now) if now else SystemClock().now()
    except ValueError as exc:
        err.print(f"[red]--now: {exc}[/]")
        raise typer.Exit(EXIT_INPUT) from None
    require_schema(engine())
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


def _dry_run(instant: datetime) -> dict[str, Any]:
    """The sweep as it would be, rendered, then rolled back: nothing written, nothing sent."""
    settings = get_settings()
    sessions = session_factory(engine())
    with sessions() as session:
        report = sweep_in(session, instant)
        mails = []
        for mail_id in session.scalars(select(Mail.id).where(claimable(instant)).order_by(Mail.id)):
            letter = prepare(session, mail_id, instant, settings.mail_from)
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
    verb = t("skulle gå ut", "would go out") if data["dry_run"] else t("skickade", "sent")
    console.print(
        t(
            f"Svep {data['now']}: {s['items']} aktiviteter och {s.get('meetings', 0)} möten bedömda, "
            f"{s['notices']} nya notiser, "
            f"{len(s['mails'])} mejl sammanställda; {len(d['sent'])} {verb}.",
            f"Sweep {data['now']}: {s['items']} activities and {s.get('meetings', 0)} meetings decided, "
            f"{s['notices']} new notices, "
            f"{len(s['mails'])} mails composed; {len(d['sent'])} {verb}.",
        ),
        highlight=False,
    )
    rows = [(m, t("skickat", "sent") if not data["dry_run"] else "—") for m in d["sent"]]
    rows += [(m, t("nytt försök ", "retry at ") + m["next_attempt_at"]) for m in d["retrying"]]
    rows += [(m, t("misslyckat", "failed")) for m in d["failed"]]
    if rows:
        table = Table(expand=True)
        for column in (t("Typ", "Kind"), t("Till", "To"), t("Ärende", "Subject"), t("Utfall", "Outcome")):
            table.add_column(column)
        for mail, outcome in rows:
            table.add_row(mail["kind"], mail["to"], mail["subject"], f"{outcome}\n{mail['reply']}")
        console.print(table)
    for problem in s["errors"]:
        err.print(f"[yellow]{problem}[/]")


def health(
    max_age: Annotated[
        int,
        typer.Option(
            "--max-age", min=1, help="sekunder innan tystnad räknas som fel / seconds of silence tolerated"
        ),
    ] = int(STALE_AFTER.total_seconds()),
    as_json: JsonFlag = False,
) -> None:
    """Avsluta med 1 om schemaläggaren eller arbetarna inte har kört nyligen / exit 1 when stale."""
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
    "scheduler_never_ran": ("schemaläggaren har aldrig kört", "the scheduler never ran"),
    "scheduler_stale": ("schemaläggaren har inte kört på länge", "the scheduler has not run lately"),
    "worker_never_ran": ("ingen worker har kört", "no worker ever ran"),
    "worker_stale": ("ingen worker har kört på länge", "no worker has run lately"),
}


def show_engine(data: dict[str, Any]) -> None:
    """The engine's part of `trygg status` and `trygg health`, for people."""

    def seen(role: dict[str, Any]) -> str:
        if role["last_seen"] is None:
            return t("aldrig", "never")
        return t(
            f"{role['last_seen']} ({role['age_seconds']} s sedan)",
            f"{role['last_seen']} ({role['age_seconds']} s ago)",
        )

    console.print(t("Schemaläggare: ", "Scheduler: ") + seen(data["scheduler"]), highlight=False)
    console.print(t("Workers: ", "Workers: ") + seen(data["workers"]), highlight=False)
    mails = data["mails"]
    console.print(
        t(
            f"Mejl: {mails['pending']} väntar, {mails['sending']} skickas, {mails['sent']} skickade, "
            f"{mails['failed']} misslyckade, {mails['cancelled']} inställda",
            f"Mails: {mails['pending']} pending, {mails['sending']} sending, {mails['sent']} sent, "
            f"{mails['failed']} failed, {mails['cancelled']} cancelled",
        ),
        highlight=False,
    )
    for problem in data["problems"]:
        sv, en = PROBLEMS.get(problem, (problem, problem))
        err.print(f"[yellow]{t('varning', 'warning')}:[/] {t(sv, en)}", highlight=False)
    if data["healthy"]:
        console.print(t("[green]Motorn är i gång.[/]", "[green]The engine is running.[/]"))
