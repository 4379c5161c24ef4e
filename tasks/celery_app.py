"""The Celery app: where trygg's work runs once one machine is not enough (Redis broker)."""

from __future__ import annotations

from celery import Celery

from workflow.settings import get_settings


def make_celery(broker_url: str | None = None) -> Celery:
    """A Celery app on the configured broker; without one, tasks run eagerly in-process."""
    broker = broker_url or get_settings().broker_url
    app = Celery("trygg", broker=broker or "memory://", include=["tasks.jobs"])
    app.conf.update(
        task_always_eager=broker is None,  # the embedded default: same functions, no servers
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,  # a killed worker's task is delivered again…
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # …and the database, not the broker, decides what is due: no long ETAs or countdowns
        # (a Redis-delayed task past visibility_timeout runs twice). trygg sends none.
        broker_transport_options={"visibility_timeout": 3600},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
    )
    return app


app = make_celery()
