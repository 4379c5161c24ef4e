"""Delivery throughput and latency: N due mails through sweep → outbox → Celery workers → SMTP sink.

trygg: N activities due at 08:00, each with its own recipient (so N mails of one reminder),
`workers` `trygg worker --pool solo` processes on Redis, an aiosmtpd sink in its own process.
The clock starts when the harness sends `trygg.sweep` as the scheduler's tick does, and stops
when the sink has accepted N mails; the same at a fifth of N, for the cost per mail as the queue
grows. Two baselines in the same run, each with as many processes as workers, each over one
reused connection, to a fresh sink of the same kind: raw smtplib sending the very bytes the
first sink received (pre-rendered), and raw smtplib sending each mail as trygg's own code reads
and renders it (no queue, no claim, no mark: the mail's own cost). Latency (section 4) is each
mail's acceptance at the sink minus the tick that found it due.
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
from workflow.db import make_engine, session_factory
from workflow.engine.models import Heartbeat
from workflow.links.tokens import LinkSigner, throwaway_secret
from workflow.links.urls import LinkSettings
from workflow.outbox.delivery import BATCH, Letters
from workflow.outbox.models import Mail, MailStatus
from workflow.outbox.render import build_message, environment, template_names
from workflow.outbox.transport import wire_bytes

MAILS = {"tiny": 40, "full": 10_000}
SMALLER = 5  # the cost per mail is also measured at MAILS / SMALLER
WORKERS = 2  # the machine's cores
SENDER = "trygg <trygg@example.org>"
TIMEOUT = {"tiny": 300.0, "full": 1800.0}  # a bound, never an expectation (the machine may be shared)


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


def run_trygg(world, size: str, folder: Path, n: int) -> dict:
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


LINKS = LinkSettings("http://localhost:8000", LinkSigner(throwaway_secret()))


def _message(letter, at):
    """A letter built into its message as trygg's delivery builds it."""
    return build_message(
        letter.rendered,
        kind=letter.kind,
        sender=SENDER,
        to=letter.to,
        reply_to=letter.reply_to,
        message_id=letter.message_id,
        date=at,
        language=letter.language,
    )


def _wire(letter, at) -> bytes:
    """A letter as trygg's delivery writes it to the wire."""
    return wire_bytes(_message(letter, at), utf8=False, linesep="\r\n")


def render_cost(world, sample: int) -> dict[str, float]:
    """CPU seconds per mail to read and render `sample` of the sent mails again with trygg's code,
    step by step (CPU time, since the machine is shared: wall time would count the others' work)."""
    spent = dict.fromkeys(("read", "context", "text", "html", "build", "bytes"), 0.0)
    env, tick = environment(), time.process_time
    done = 0
    with world.sessions() as session:
        ids = list(session.scalars(select(Mail.id).order_by(Mail.id).limit(sample)))
        _warm(session, ids[0])
        for at in range(0, len(ids), BATCH):
            letters = Letters(session, NOW, SENDER, LINKS)
            t0 = tick()
            mails = letters.load(tuple(ids[at : at + BATCH]))
            spent["read"] += tick() - t0
            for mail in mails.values():
                t0 = tick()
                kind, lang, context = letters.draft(mail)
                t1 = tick()
                text_name, html_name = template_names(kind, lang)
                values = {**context, "lang": lang, "kind": kind}
                env.get_template(text_name).render(values)
                t2 = tick()
                env.get_template(html_name).render(values)
                t3 = tick()
                letter = letters.letter(mail)
                t4 = tick()
                message = _message(letter, NOW)
                t5 = tick()
                wire_bytes(message, utf8=False, linesep="\r\n")
                t6 = tick()
                spent["context"] += t1 - t0
                spent["text"] += t2 - t1
                spent["html"] += t3 - t2
                spent["build"] += t5 - t4
                spent["bytes"] += t6 - t5
                done += 1
            session.expunge_all()
    return {k: v / max(1, done) for k, v in spent.items()}


def _warm(session, mail_id: int) -> None:
    """Render one mail untimed: the templates are compiled once per process, not per mail."""
    letters = Letters(session, NOW, SENDER, LINKS)
    letters.letter(letters.load((mail_id,))[mail_id])


def _render_and_send_share(url: str, port: int, ids: list[int], start) -> None:
    """The render baseline's sender: trygg reads and renders each mail, raw smtplib sends it."""
    engine = make_engine(url)
    sessions = session_factory(engine)
    start.wait()
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    conn.ehlo()
    with sessions() as session:
        for at in range(0, len(ids), BATCH):
            letters = Letters(session, NOW, SENDER, LINKS)
            mails = letters.load(tuple(ids[at : at + BATCH]))
            for mail_id in ids[at : at + BATCH]:
                letter = letters.letter(mails[mail_id])
                conn.sendmail("trygg@example.org", [letter.to[1]], _wire(letter, NOW))
            session.expunge_all()
    conn.quit()
    engine.dispose()


def _send_share(port: int, messages: list[tuple[str, bytes]], start) -> None:
    start.wait()
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    conn.ehlo()
    for recipient, wire in messages:
        conn.sendmail("trygg@example.org", [recipient], wire)  # already CRLF, dot-stuffed by smtplib
    conn.quit()


def run_baseline(messages: list[tuple[str, bytes]], folder: Path, size: str) -> dict:
    """Raw smtplib sending pre-rendered bytes."""
    return _baseline(
        "sink-baseline",
        folder,
        size,
        len(messages),
        lambda port, i, start: (port, messages[i::WORKERS], start),
    )


def run_render_baseline(world, folder: Path, size: str) -> dict:
    """Raw smtplib sending each mail as trygg's own code reads and renders it."""
    with world.sessions() as session:
        ids = list(session.scalars(select(Mail.id).order_by(Mail.id)))
        _warm(
            session, ids[0]
        )  # before the fork: the senders inherit compiled templates, as workers have them
    return _baseline(
        "sink-rendered",
        folder,
        size,
        len(ids),
        lambda port, i, start: (world.url, port, ids[i::WORKERS], start),
        target=_render_and_send_share,
    )


def _baseline(name: str, folder: Path, size: str, n: int, args, target=_send_share) -> dict:
    sink = SinkProcess(folder, name)
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=target, args=args(sink.port, i, start)) for i in range(WORKERS)]
    try:
        for p in procs:
            p.start()
        time.sleep(0.5)  # every sender forked and waiting
        t0 = time.time()
        start.set()
        for p in procs:
            p.join(TIMEOUT[size])
        wait_for(lambda: sink.count() >= n, f"the {name}'s mails", TIMEOUT[size])
        accepted = sink.accepted()
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        sink.stop()
    return {"n": len(accepted), "seconds": max(accepted) - t0}


def measure(size: str) -> dict:
    # TRYGG_BENCH_MAILS sets another N (a quick check of the harness on a loaded machine).
    n = int(os.environ.get("TRYGG_BENCH_MAILS") or MAILS[size])
    smaller = _trygg_only(n // SMALLER, size)
    with database("postgresql") as url, tempfile.TemporaryDirectory(prefix="trygg-bench-") as tmp:
        folder = Path(tmp)
        world = open_world(url)
        add_recipients(world, n)
        build = grow(world, n, due=n)
        load = os.getloadavg()[0]
        trygg = run_trygg(world, size, folder, n)
        messages = trygg.pop("mails")  # the very bytes trygg sent, pre-rendered for the baseline
        baseline = run_baseline(messages, folder, size)
        rendered = run_render_baseline(world, folder, size)
        render = render_cost(world, min(n, 500))
        world.engine.dispose()
    return {
        "n": n,
        "build": build,
        "trygg": trygg,
        "smaller": smaller,
        "baseline": baseline,
        "rendered": rendered,
        "render": render,
        "load": load,
        "size": sum(len(w) for _, w in messages) / max(1, len(messages)),
    }


def _trygg_only(n: int, size: str) -> dict:
    """trygg's pipeline alone at `n` mails (for the cost per mail at a smaller queue)."""
    with database("postgresql") as url, tempfile.TemporaryDirectory(prefix="trygg-bench-") as tmp:
        world = open_world(url)
        add_recipients(world, n)
        grow(world, n, due=n)
        result = run_trygg(world, size, Path(tmp), n)
        result.pop("mails")
        world.engine.dispose()
    return result


_cache: dict[str, dict] = {}


def measured(size: str) -> dict:
    """One run serves sections 2 and 4 (`python -m bench` runs it once)."""
    if size not in _cache:
        _cache[size] = measure(size)
    return _cache[size]


def run(size: str = "full") -> Section:
    start = time.perf_counter()
    m = measured(size)
    t, b, r, small = m["trygg"], m["baseline"], m["rendered"], m["smaller"]
    rate_t, rate_b, rate_r = t["n"] / t["seconds"], b["n"] / b["seconds"], r["n"] / r["seconds"]
    cost, cost_small = t["seconds"] / t["n"], small["seconds"] / small["n"]
    render = m["render"]
    rendering = render["text"] + render["html"] + render["build"] + render["bytes"]
    body = "\n\n".join(
        [
            f"{m['n']:,} activities due at 08:00, one recipient each: {m['n']:,} mails of one reminder "
            f"(≈ {m['size'] / 1024:.1f} KiB each, text + HTML). {WORKERS} `trygg worker --pool solo` processes; "
            f"each baseline uses {WORKERS} sending processes. PostgreSQL, Redis and the sinks on this machine; "
            f"the load average when the run began: {m['load']:.1f} on 2 cores (shared with other work).",
            table(["pipeline", "mails accepted", "wall time", "mails / s", "per mail"], _rows(m)),
            f"Ratios in this run: trygg / the render baseline **{rate_t / rate_r:.2f}** (target ≥ 0.8); "
            f"trygg / raw smtplib pre-rendered **{rate_t / rate_b:.2f}** (target ≥ 0.3); cost per mail at "
            f"{t['n']:,} / at {small['n']:,}: **{cost / cost_small:.2f}** (target ≤ 1.2). trygg's wall time "
            f"counts from the tick: the first mail reached the sink {secs(t['first'])} after it (the sweep "
            f"deciding and composing {m['n']:,} mails first).",
            f"Render cost per mail: {min(m['n'], 500)} of the sent mails read and rendered again in the harness "
            "(one process), by trygg's own functions, in CPU time:\n\n"
            + table(["step", "per mail"], _steps(render, rendering)),
        ]
    )
    figures = {
        "trygg_rate": rate_t,
        "baseline_rate": rate_b,
        "rendered_rate": rate_r,
        "ratio": rate_t / rate_b,
        "ratio_rendered": rate_t / rate_r,
        "cost_ratio": cost / cost_small,
        "render": rendering,
        "n": t["n"],
        "n_smaller": small["n"],
    }
    return Section(
        2, "Delivery throughput", command("delivery", size), body, time.perf_counter() - start, figures
    )


def _rows(m: dict) -> list[list[str]]:
    t, b, r, small = m["trygg"], m["baseline"], m["rendered"], m["smaller"]
    rate_t, rate_b, rate_r = t["n"] / t["seconds"], b["n"] / b["seconds"], r["n"] / r["seconds"]
    cost, cost_small = t["seconds"] / t["n"], small["seconds"] / small["n"]
    return [
        [
            "trygg: tick → sweep → outbox → Celery (Redis) → SMTP",
            f"{t['n']:,}",
            secs(t["seconds"]),
            f"**{rate_t:,.0f}**",
            ms(cost),
        ],
        [
            f"trygg at {small['n']:,} mails (the same, a smaller queue)",
            f"{small['n']:,}",
            secs(small["seconds"]),
            f"{small['n'] / small['seconds']:,.0f}",
            ms(cost_small),
        ],
        [
            f"baseline: trygg's reading and rendering, raw smtplib, {WORKERS} processes × 1 connection",
            f"{r['n']:,}",
            secs(r["seconds"]),
            f"**{rate_r:,.0f}**",
            ms(r["seconds"] / r["n"]),
        ],
        [
            f"baseline: raw smtplib, {WORKERS} processes × 1 connection, pre-rendered",
            f"{b['n']:,}",
            secs(b["seconds"]),
            f"**{rate_b:,.0f}**",
            ms(b["seconds"] / b["n"]),
        ],
    ]


def _steps(render: dict, rendering: float) -> list[list[str]]:
    return [
        ["read the batch's mails, notices and recipients (per mail, batches of 50)", ms(render["read"])],
        [
            "context: items, signed links, agreement and coordinator (read once per batch)",
            ms(render["context"]),
        ],
        ["render the text part (Jinja2, with the subject block)", ms(render["text"])],
        ["render the HTML part (Jinja2)", ms(render["html"])],
        ["build the MIME message (headers, two parts)", ms(render["build"])],
        ["serialise to wire bytes (CRLF)", ms(render["bytes"])],
        ["**render + build** (text, HTML, MIME, bytes)", f"**{ms(rendering)}**"],
    ]


if __name__ == "__main__":
    main_for("delivery", run)
