"""The usual approach's Celery side: an app on the benchmark's Redis and a task that records when it ran."""

from __future__ import annotations

import time

import redis
from celery import Celery

from bench.common import REDIS_URL

QUEUE = "usual"
FIRED = "bench:fired"

# A plain app as a project that schedules with ETAs would have it (kombu's defaults, among
# them a visibility_timeout of one hour).
app = Celery("usual", broker=REDIS_URL)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
_redis: redis.Redis | None = None


@app.task(name="bench.remind")
def remind(i: int) -> None:
    """What one reminder would do; here: note that it ran, and when."""
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(REDIS_URL)
    _redis.rpush(FIRED, f"{time.time():.6f} {i}")
