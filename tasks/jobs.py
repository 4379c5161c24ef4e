"""The Celery tasks: a sweep (other workers helping it decide when much is due), then delivery.

Thin: what is due is decided in workflow/."""

from __future__ import annotations

import logging
from datetime import datetime
from math import ceil
from typing import Any

from celery.signals import worker_process_init, worker_ready

from tasks import runtime
from tasks.celery_app import app

log = logging.getLogger(__name__)

DELIVERY_LIMIT = 500  # mails one delivery task sends before it hands on to a fresh task
MAILS_PER_TASK = 50  # a sweep starts one delivery task per this many mails it composed…
DELIVERY_FAN_OUT = 16  # …and at most this many
DECIDE_HELPERS = 3  # tasks that help a sweep with more activities due than one batch (idle workers take them)


@app.task(name="trygg.sweep", ignore_result=True)
def sweep(now: str | None = None) -> dict[str, Any]:
    """Decide and compose; delivery is handed on as each batch of mails is committed."""
    runtime.beat("worker")
    started = 0

    def hand_on(mails: list[int]) -> None:
        # Enough delivery tasks for every idle worker to take a share (they split the rows by
        # SKIP LOCKED claims); a single task left the other workers idle behind a long queue. At
        # least one per batch: the earlier ones may have emptied the queue and ended meanwhile.
        nonlocal started
        wanted = max(1, min(DELIVERY_FAN_OUT - started, ceil(len(mails) / MAILS_PER_TASK)))
        for _ in range(wanted):
            deliver.delay(now)
        started += wanted

    def ask_for_help(instant: datetime) -> None:
        try:
            for _ in range(DECIDE_HELPERS):
                decide.delay(instant.isoformat())
        except Exception:  # the broker away: this sweep decides alone, as it always can
            log.exception("asking other workers to help the sweep failed")

    report = runtime.run_sweep(now, composed=hand_on, helpers=ask_for_help)
    if not started:  # nothing new, but retries may be due: one delivery task looks
        deliver.delay(now)
    return report


@app.task(name="trygg.decide", ignore_result=True)
def decide(now: str) -> dict[str, Any]:
    """Help a running sweep decide its due activities (the sweep itself composes their mails)."""
    runtime.beat("worker")
    return runtime.run_decide(now)


@app.task(name="trygg.deliver", ignore_result=True)
def deliver(now: str | None = None) -> dict[str, Any]:
    """Send what can be claimed; retries wait in the rows (next_attempt_at), not in countdowns."""
    runtime.beat("worker")
    report = runtime.run_delivery(now, limit=DELIVERY_LIMIT)
    if sum(len(report[k]) for k in ("sent", "retrying", "failed")) + report["cancelled"] >= DELIVERY_LIMIT:
        # The limit keeps one task short, not the queue unsent: hand the rest on at once
        # instead of leaving it to the next minute's sweep (1,000 mails a minute at most).
        deliver.delay(now)
    return report


@worker_process_init.connect
def _fresh_engine_after_fork(**_: Any) -> None:
    runtime.forget_engine()


@worker_ready.connect
def _say_ready(**_: Any) -> None:
    runtime.beat("worker")
