"""The Celery tasks: a sweep, then a delivery run. Thin: what is due is decided in workflow/."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init, worker_ready

from tasks import runtime
from tasks.celery_app import app


@app.task(name="trygg.sweep", ignore_result=True)
def sweep(now: str | None = None) -> dict[str, Any]:
    """Decide and compose; then hand delivery on, after the sweep's transactions committed."""
    runtime.beat("worker")
    report = runtime.run_sweep(now)
    deliver.delay(now)
    return report


@app.task(name="trygg.deliver", ignore_result=True)
def deliver(now: str | None = None) -> dict[str, Any]:
    """Send what can be claimed; retries wait in the rows (next_attempt_at), not in countdowns."""
    runtime.beat("worker")
    return runtime.run_delivery(now)


@worker_process_init.connect
def _fresh_engine_after_fork(**_: Any) -> None:
    runtime.forget_engine()


@worker_ready.connect
def _say_ready(**_: Any) -> None:
    runtime.beat("worker")
