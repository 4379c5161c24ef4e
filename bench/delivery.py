"""Delivery throughput and latency: N due mails through sweep → outbox → Celery workers → SMTP sink.

trygg: N activities due at 08:00, each with its own recipient (so N mails of one reminder),
`workers` `trygg worker --pool solo` processes on Redis, an aiosmtpd sink in its own process.
The clock starts when the harness sends `trygg.sweep` as the scheduler's tick does, and stops
when the sink has accepted N mails. Baseline, in the same run: the same N messages, rendered
beforehand by trygg's own code, sent with raw smtplib by as many processes as workers, each over
one reused connection, to a fresh sink of the same kind (the bytes the first sink received). Latency (section 4) is each mail's
acceptance at the sink minus the tick that found it due.
"""

from __future__ import annotations

import multiprocessing
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from sqlalchemy import func, select

from bench.common import (
    REDIS_URL,
    ROOT,
    Section,
    command,
    database,
    main_for,
    ms,
    require_redis_db,
    secs,
    table,
)
from bench.world import NOW, add_recipients, grow, open_world
from tasks.celery_app import make_celery
from workflow.engine.models import Heartbeat
from workflow.links.tokens import LinkSigner, throwaway_secret
from workflow.links.urls import LinkSettings
from workflow.outbox.delivery import prepare
from workflow.outbox.models import Mail, MailStatus
from workflow.outbox.render import build_message

MAILS = {"tiny": 40, "full": 10_000}
WORKERS = 2  # the machine's cores
SENDER = "trygg <trygg@example.org>"
TIMEOUT = {"tiny": 120.0, "full": 900.0}  # a bound, never an expectation


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SinkProcess:
    def __init__(self, folder: Path, name: str, *, keep: bool = False) -> None:
        self.port = free_port()
        self.log = folder / f"{name}.log"
        self.log.touch()
        self.kept = folder / f"{name}.mails" if keep else None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sink", "--port", str(self.port), "--log", str(self.log)]
            + (["--keep", str(self.kept)] if keep else []),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready", "the SMTP sink did not start"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def accepted(self) -> list[float]:
        return [float(line.split(" ", 1)[0]) for line in self.log.read_text().splitlines() if line]

    def count(self) -> int:
        return self.log.read_bytes().count(b"\n")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=15)

    def mails(self) -> list[tuple[str, bytes]]:
        """The mails it kept, as (recipient, bytes as received); after stop()."""
        data, out, at = self.kept.read_bytes(), [], 0
        while at < len(data):
            end = data.index(b"\n", at)
            size, recipient = data[at:end].decode().split(" ", 1)
            out.append((recipient, data[end + 1 : end + 1 + int(size)]))
            at = end + 1 + int(size)
        return out


def wait_for(condition, what: str, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def run_trygg(world, size: str, folder: Path) -> dict:
    n = MAILS[size]
    sink = SinkProcess(folder, "sink-trygg", keep=True)
    require_redis_db(REDIS_URL)
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    workers = _start_workers(world, sink, folder)
    celery = make_celery(REDIS_URL)
    try:
        wait_for(lambda: _workers_ready(world, workers, folder), "the workers", 120)
        tick = time.time()
        celery.send_task("trygg.sweep", kwargs={"now": NOW.isoformat()})
        wait_for(lambda: sink.count() >= n, f"{n} mails at the sink", TIMEOUT[size], 0.2)
        accepted = sink.accepted()
        with world.sessions() as session:
            sent = session.scalar(
                select(func.count()).select_from(Mail).where(Mail.status == MailStatus.SENT)
            )
    finally:
        _stop_workers(workers)
        celery.close()
        sink.stop()
        r.flushdb()
        r.close()
    latencies = [a - tick for a in accepted]
    return {
        "n": len(accepted),
        "sent_rows": sent,
        "seconds": max(accepted) - tick,
        "first": min(accepted) - tick,
        "latencies": latencies,
        "mails": sink.mails(),
    }


def _start_workers(world, sink: SinkProcess, folder: Path) -> list[subprocess.Popen]:
    """`WORKERS` trygg workers on the world's database and Redis, sending to the sink."""
    env = {
        **os.environ,
        "TRYGG_DATABASE_URL": world.url,
        "TRYGG_BROKER_URL": REDIS_URL,
        "TRYGG_SMTP_URL": sink.url,
        "TRYGG_SMTP_TIMEOUT": "30",
        "TRYGG_MAIL_FROM": SENDER,
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tasks.cli", "worker", "--pool", "solo", "--loglevel", "WARNING"],
            env=env,
            cwd=ROOT,
            stdout=open(folder / f"worker-{i}.log", "w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(WORKERS)
    ]


def _workers_ready(world, workers: list[subprocess.Popen], folder: Path) -> bool:
    """Every worker has written its heartbeat; a worker that exited is an error."""
    for proc in workers:
        if proc.poll() is not None:
            raise RuntimeError(f"a worker exited: {(folder / 'worker-0.log').read_text()[-2000:]}")
    with world.sessions() as session:
        names = set(session.scalars(select(Heartbeat.name).where(Heartbeat.role == "worker")))
    return all(any(name.endswith(f":{p.pid}") for name in names) for p in workers)


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    """Terminate every worker; kill one that has not exited after 30 s."""
    for proc in workers:
        proc.terminate()
    for proc in workers:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def render_cost(world, sample: int) -> dict[str, float]:
    """Seconds per mail to render `sample` of the sent mails again with trygg's code, by step."""
    spent = {"prepare": 0.0, "build": 0.0, "bytes": 0.0}
    links = LinkSettings("http://localhost:8000", LinkSigner(throwaway_secret()))
    out = []
    with world.sessions() as session:
        ids = list(session.scalars(select(Mail.id).order_by(Mail.id).limit(sample)))
        for mail_id in ids:
            t0 = time.perf_counter()
            letter = prepare(session, mail_id, NOW, SENDER, links)
            t1 = time.perf_counter()
            message = build_message(
                letter.rendered,
                kind=letter.kind,
                sender=SENDER,
                to=letter.to,
                reply_to=letter.reply_to,
                message_id=letter.message_id,
                date=NOW,
                language=letter.language,
            )
            t2 = time.perf_counter()
            wire = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
            t3 = time.perf_counter()
            spent["prepare"] += t1 - t0
            spent["build"] += t2 - t1
            spent["bytes"] += t3 - t2
            out.append((letter.to[1], wire))
            session.expunge_all()
    return {k: v / max(1, len(out)) for k, v in spent.items()}


def _send_share(port: int, messages: list[tuple[str, bytes]], start) -> None:
    start.wait()
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    conn.ehlo()
    for recipient, wire in messages:
        conn.sendmail("trygg@example.org", [recipient], wire)  # already CRLF, dot-stuffed by smtplib
    conn.quit()


def run_baseline(messages: list[tuple[str, bytes]], folder: Path, size: str) -> dict:
    sink = SinkProcess(folder, "sink-baseline")
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_send_share, args=(sink.port, messages[i::WORKERS], start)) for i in range(WORKERS)
    ]
    try:
        for p in procs:
            p.start()
        time.sleep(0.5)  # every sender forked and waiting
        t0 = time.time()
        start.set()
        for p in procs:
            p.join(TIMEOUT[size])
        wait_for(lambda: sink.count() >= len(messages), "the baseline's mails", TIMEOUT[size])
        accepted = sink.accepted()
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        sink.stop()
    return {"n": len(accepted), "seconds": max(accepted) - t0}


def measure(size: str) -> dict:
    n = MAILS[size]
    with database("postgresql") as url, tempfile.TemporaryDirectory(prefix="trygg-bench-") as tmp:
        folder = Path(tmp)
        world = open_world(url)
        add_recipients(world, n)
        build = grow(world, n, due=n)
        trygg = run_trygg(world, size, folder)
        messages = trygg.pop("mails")  # the very bytes trygg sent, pre-rendered for the baseline
        baseline = run_baseline(messages, folder, size)
        render = render_cost(world, min(n, 500))
        world.engine.dispose()
    return {
        "n": n,
        "build": build,
        "trygg": trygg,
        "baseline": baseline,
        "render": render,
        "size": sum(len(w) for _, w in messages) / max(1, len(messages)),
    }


_cache: dict[str, dict] = {}


def measured(size: str) -> dict:
    """One run serves sections 2 and 4 (`python -m bench` runs it once)."""
    if size not in _cache:
        _cache[size] = measure(size)
    return _cache[size]


def run(size: str = "full") -> Section:
    start = time.perf_counter()
    m = measured(size)
    t, b = m["trygg"], m["baseline"]
    rate_t, rate_b = t["n"] / t["seconds"], b["n"] / b["seconds"]
    ratio = rate_t / rate_b
    render = m["render"]
    rows = [
        [
            "trygg: tick → sweep → outbox → Celery (Redis) → SMTP",
            f"{t['n']:,}",
            secs(t["seconds"]),
            f"**{rate_t:,.0f}**",
        ],
        [
            f"baseline: raw smtplib, {WORKERS} processes × 1 connection, pre-rendered",
            f"{b['n']:,}",
            secs(b["seconds"]),
            f"**{rate_b:,.0f}**",
        ],
    ]
    body = "\n\n".join(
        [
            f"{m['n']:,} activities due at 08:00, one recipient each: {m['n']:,} mails of one reminder "
            f"(≈ {m['size'] / 1024:.1f} KiB each, text + HTML). {WORKERS} `trygg worker --pool solo` processes; "
            f"the baseline uses {WORKERS} sending processes. PostgreSQL, Redis and both sinks on this machine.",
            table(["pipeline", "mails accepted", "wall time", "mails / s"], rows),
            f"Ratio trygg / baseline: **{ratio:.2f}** (target ≥ 0.5). The first trygg mail reached the sink "
            f"{secs(t['first'])} after the tick (the sweep deciding and composing {m['n']:,} mails first).",
            f"Render cost per mail: {min(m['n'], 500)} of the sent mails rendered again in the harness (one process), "
            "by trygg's own functions:\n\n"
            + table(
                ["step", "per mail"],
                [
                    [
                        "prepare: read the mail's notices, recipient, coordinator; Jinja2 text + HTML",
                        ms(render["prepare"]),
                    ],
                    ["build the MIME message (headers, two parts)", ms(render["build"])],
                    ["serialise to wire bytes (CRLF)", ms(render["bytes"])],
                    ["**total**", f"**{ms(sum(render.values()))}**"],
                ],
            ),
        ]
    )
    figures = {"trygg_rate": rate_t, "baseline_rate": rate_b, "ratio": ratio, "render": sum(render.values())}
    return Section(
        2, "Delivery throughput", command("delivery", size), body, time.perf_counter() - start, figures
    )


if __name__ == "__main__":
    main_for("delivery", run)
