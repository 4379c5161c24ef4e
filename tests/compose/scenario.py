"""The test against the running containers of docker-compose.yml (called by tests/compose/run).

    python3 tests/compose/scenario.py COMPOSE-COMMAND…   (WEB_PORT, MAILPIT_PORT, BIN set)

1. `migrate` completed (exit 0) and the web's /healthz answers, its healthcheck healthy.
2. The Härnösand agreement is loaded (`run --rm migrate trygg load harnosand-2012-2013`).
3. A sweep at 2012-12-17T08:00:00+01:00 (`run --rm migrate trygg sweep --now …`) puts into the
   sink the mails the same sweep gives on SQLite here, counted by kind.
4. Faults, each while the workers deliver a sweep the engine was handed (the Celery task
   trygg.sweep at a date of the agreement), the sink taking 1 s a message:
   - `docker kill` of the worker container that is delivering;
   - `docker compose restart postgres`.
   Each row: no mail lost (every mail of the database "sent" and at the sink), duplicates
   within the deliveries in flight at the fault.
5. Two scheduler containers with mails due (`up --scale scheduler=2`): the mails of an agreement
   in force wait composed; only the lease holder's tick hands them on; none reaches the sink
   twice (by Message-ID), and the other stands by through the next tick too.
Standard library only; every wait is bounded.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "var" / "compose"
DC = sys.argv[1:]
WEB = f"http://127.0.0.1:{os.environ['WEB_PORT']}"
SINK = f"http://127.0.0.1:{os.environ['MAILPIT_PORT']}"
BIN = Path(os.environ.get("BIN", ".venv/bin"))
SWEEP_AT = "2012-12-17T08:00:00+01:00"
# The agreement in force for the two schedulers (`trygg synthetic … --around` a week ago).
ONE_OF_EACH = {"scheduler": 1, "scheduler-standby": 1}
DUE_NOW = ["trygg", "synthetic", "--activities", "40", "--people", "12", "--spread", "10", "--seed", "1"]
TIMES: list[tuple[str, float]] = []
ROWS: list[dict] = []
ON_SQLITE: dict[str, concurrent.futures.Future] = {}


def show(args: list[str]) -> str:
    return "$ " + " ".join(a if a and " " not in a and "'" not in a else repr(a) for a in args)


def dc(*args: str, capture: bool = False, timeout: float = 300) -> str:
    command = [*DC, *args]
    print(show(command), flush=True)
    done = subprocess.run(command, capture_output=capture, text=True, timeout=timeout)
    if done.returncode != 0:
        if capture:
            print(done.stdout, done.stderr, sep="\n")
        raise SystemExit(f"compose-test: failed (exit {done.returncode}): {' '.join(args)}")
    return done.stdout if capture else ""


def docker(*args: str) -> str:
    print(show(["docker", *args]), flush=True)
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def wait_until(test, what: str, timeout: float, every: float = 0.5):
    end = time.monotonic() + timeout
    while True:
        try:
            value = test()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise SystemExit(f"compose-test: waited {timeout:.0f} s for {what}")
        time.sleep(every)


def sink() -> list[dict]:
    with urllib.request.urlopen(f"{SINK}/api/v1/messages", timeout=10) as answer:
        return json.load(answer)["messages"]


POSTGRES: list[str] = []  # the postgres container (a restart keeps it)


def sql(query: str) -> list[list[str]]:
    """A query through psql in the postgres container; retried while the server (re)starts.
    `docker exec`, not `compose exec`: the test polls with it, and it starts in a tenth of the time."""
    POSTGRES[:] = POSTGRES or containers("postgres")
    psql = ["psql", "-U", "trygg", "-d", "trygg", "-At", "-F", "\t", "-c", query]
    end = time.monotonic() + 90
    while True:
        done = subprocess.run(
            ["docker", "exec", POSTGRES[0], *psql], capture_output=True, text=True, timeout=120
        )
        if done.returncode == 0:
            return [line.split("\t") for line in done.stdout.splitlines() if line]
        if time.monotonic() > end:
            raise SystemExit(f"compose-test: psql failed: {query}\n{done.stdout}{done.stderr}")
        time.sleep(2)


def containers(service: str) -> list[str]:
    return dc("ps", "-q", service, capture=True).split()


def in_a_worker(code: str) -> None:
    """Python in a running worker container (cheaper than a `run` of a new one)."""
    docker("exec", containers("worker")[0], "python", "-c", code)


def enqueue_sweep(at: str) -> None:
    """The engine's own task, at a date of the agreement: a worker sweeps and fans delivery out."""
    in_a_worker(f"from tasks import jobs; jobs.sweep.delay({at!r})")


def enqueue_delivery() -> None:
    """What the scheduler's next tick hands the workers after its sweep: delivery, at real time.
    (The scheduler stands stopped while the test sweeps at the agreement's dates: a sweep at
    today's date would find the 2012–2013 agreement over and cancel what was pending.)"""
    in_a_worker("from tasks import jobs; jobs.deliver.delay()")


def outcome(since: int) -> dict:
    """Every mail of the database against what the sink received after message `since`."""
    mails = sql("SELECT id, status, message_id, kind FROM mails ORDER BY id")
    received = [m for m in sink() if int(m["ID"]) > since]
    ids = collections.Counter(m["MessageID"] for m in received)
    sent = {row[2].strip("<>") for row in mails if row[1] == "sent"}
    at_sink = set(ids)
    return {
        "mails": len(mails),
        "not_sent": sum(1 for row in mails if row[1] != "sent"),
        "lost": len(sent - {m["MessageID"] for m in sink()}),
        "received": len(received),
        "duplicates": sum(n - 1 for n in ids.values()),
        "new": len(at_sink),
    }


def settle(expected_total: int, what: str, timeout: float = 240, tick: bool = False) -> None:
    """Until every mail of the database is sent; with `tick`, delivery is handed to the workers
    once a minute meanwhile, as the (stopped) scheduler's ticks would."""
    last_tick = time.monotonic()

    def done():
        nonlocal last_tick
        rows = sql("SELECT count(*) FILTER (WHERE status <> 'sent'), count(*) FROM mails")[0]
        if tick and time.monotonic() - last_tick > 60:
            enqueue_delivery()
            last_tick = time.monotonic()
        return rows[0] == "0" and int(rows[1]) == expected_total

    wait_until(done, what, timeout, every=2)


def timed(name: str):
    class Timer:
        def __enter__(self):
            self.t0 = time.monotonic()
            print(f"-- {name}", flush=True)

        def __exit__(self, *exc):
            took = time.monotonic() - self.t0
            if exc[0] is None:
                TIMES.append((name, took))
                print(f"-- {name}: {took:.1f} s", flush=True)

    return Timer()


def sqlite_env(tmp: str) -> dict[str, str]:
    """trygg here, on SQLite in `tmp` with mails as files: where the test computes what to expect."""
    env = {
        **os.environ,
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp}/trygg.db",
        "TRYGG_SECRET_KEY": "compose-test-" + "x" * 40,
        "TRYGG_MAIL_DIR": f"{tmp}/mail",
    }
    env.pop("TRYGG_SMTP_URL", None)
    return env


def trygg_here(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "trygg"), *args], env=env, check=True, capture_output=True, text=True, timeout=120
    )
    return done.stdout


def dry_run_sweep(env: dict[str, str], at: str) -> collections.Counter:
    """The mails a sweep at `at` would send, by kind (nothing written or sent)."""
    out = trygg_here(env, "sweep", "--now", at, "--dry-run", "--json")
    return collections.Counter(m["kind"] for m in json.loads(out)["delivery"]["sent"])


def expected_on_sqlite() -> collections.Counter:
    """The same load and sweep on SQLite here, in-process (dry run: nothing sent)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = sqlite_env(tmp)
        trygg_here(env, "db", "upgrade")
        trygg_here(env, "load", "harnosand-2012-2013")
        return dry_run_sweep(env, SWEEP_AT)


def fault_row(fault: str, at: str, make_fault) -> None:
    """Hand the engine a sweep at `at`; when the sink has its first mail of it, make the fault;
    then wait for every mail and write the row."""
    before_mails = int(sql("SELECT count(*) FROM mails")[0][0])
    since = len(sink())
    began = time.monotonic()
    enqueue_sweep(at)
    first = wait_until(
        lambda: [m for m in sink() if int(m["ID"]) > since], f"the first mail of the sweep at {at}", 120
    )
    in_flight = int(sql("SELECT count(*) FROM mails WHERE status = 'sending'")[0][0])
    fault_at = time.monotonic()
    make_fault(first[-1])
    enqueue_delivery()
    total = int(sql("SELECT count(*) FROM mails")[0][0])
    # A killed worker's mails wait for its lease to run out (on the real clock: 120 s), then for the
    # next tick (a minute at most), then for the sink (1 s a mail).
    settle(total, f"every mail of the sweep at {at} to be sent after: {fault}", timeout=480, tick=True)
    result = outcome(since)
    row = {
        "fault": fault,
        "mails": total - before_mails,
        "lost": result["lost"],
        "not_sent": result["not_sent"],
        "duplicates": result["duplicates"],
        "in_flight": in_flight,
        "recovery_s": time.monotonic() - fault_at,
        "wall_s": time.monotonic() - began,
    }
    ROWS.append(row)
    print(f"   {row}", flush=True)
    assert row["mails"] > 0, f"the sweep at {at} composed nothing"
    assert row["lost"] == 0 and row["not_sent"] == 0, row
    assert row["duplicates"] <= in_flight, row


def phase(name: str):
    """A step of the scenario, timed (its time printed and kept for the table)."""

    def wrap(fn):
        def run() -> None:
            with timed(name):
                fn()

        return run

    return wrap


@phase("migrate completed, /healthz healthy")
def up_and_healthy() -> None:
    (migrate,) = docker(
        "ps",
        "-aq",
        "--filter",
        f"label=com.docker.compose.project={os.environ['COMPOSE_PROJECT_NAME']}",
        "--filter",
        "label=com.docker.compose.service=migrate",
    ).split()
    state = json.loads(docker("inspect", "--format", "{{json .State}}", migrate))
    assert state["Status"] == "exited" and state["ExitCode"] == 0, f"migrate: {state}"
    wait_until(lambda: urllib.request.urlopen(f"{WEB}/healthz", timeout=5).status == 200, "/healthz", 120)
    print(f"   {WEB}/healthz: 200", flush=True)


@phase("the Härnösand agreement loaded")
def load_agreement() -> None:
    # Until the last phase the scheduler stands stopped: the test sweeps at the agreement's
    # dates (2012–2013); the scheduler's sweep at today's date would cancel what is pending.
    dc("stop", "scheduler")
    dc("run", "--rm", "migrate", "trygg", "load", "harnosand-2012-2013")


@phase(f"a sweep at {SWEEP_AT}, the mails counted at the sink")
def sweep_counted() -> None:
    expected = ON_SQLITE["harnosand"].result()
    print(f"   on SQLite here: {dict(sorted(expected.items()))}", flush=True)
    since = len(sink())
    dc("run", "--rm", "migrate", "trygg", "sweep", "--now", SWEEP_AT)
    settle(sum(expected.values()), "the sweep's mails to be sent")
    received = [m for m in sink() if int(m["ID"]) > since]
    kinds = collections.Counter({m["MessageID"]: m["Kind"] for m in received}.values())
    print(f"   at the sink:    {dict(sorted(kinds.items()))} ({len(received)} messages)", flush=True)
    assert kinds == expected, f"the sink has {dict(kinds)}, SQLite gives {dict(expected)}"
    assert expected, "the sweep on SQLite gave no mail"


@phase("docker kill of the delivering worker")
def kill_a_worker() -> None:

    def kill_the_sender(first: dict) -> None:
        by_ip = {}
        for cid in containers("worker"):
            nets = json.loads(docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", cid))
            by_ip.update({n["IPAddress"]: cid for n in nets.values()})
        sender = by_ip[first["Peer"]]
        docker("kill", sender)
        time.sleep(2)
        dc("up", "-d", "--no-recreate", "--scale", "worker=2", "worker")  # what the restart policy would do

    fault_row("docker kill of the worker container delivering", "2013-02-11T08:00:00+01:00", kill_the_sender)


@phase("PostgreSQL container restarted")
def restart_postgres() -> None:
    fault_row(
        "docker compose restart postgres during delivery",
        "2013-01-14T08:00:00+01:00",
        lambda first: dc("restart", "postgres"),
    )


def due_now() -> tuple[list[str], str, collections.Counter]:
    """A synthetic agreement around last week (its period holds today), the latest working-day
    08:00 before today at which a sweep composes mail for it, and those mails by kind (SQLite
    here, dry run). A sweep at today's date leaves them waiting: the agreement is in force."""
    stockholm = ZoneInfo("Europe/Stockholm")
    today = datetime.now(stockholm).date()
    synthetic = [*DUE_NOW, "--around", (today - timedelta(days=7)).isoformat()]
    with tempfile.TemporaryDirectory() as tmp:
        env = sqlite_env(tmp)
        trygg_here(env, "db", "upgrade")
        trygg_here(env, synthetic[1], f"{tmp}/due.yaml", *synthetic[2:])
        trygg_here(env, "load", f"{tmp}/due.yaml")
        for back in range(1, 10):
            day = today - timedelta(days=back)
            at = datetime(day.year, day.month, day.day, 8, tzinfo=stockholm).isoformat()
            kinds = dry_run_sweep(env, at)
            if kinds:
                return synthetic, at, kinds
    raise SystemExit(
        f"compose-test: no sweep at 08:00 of the 9 days before {today} composes mail: {synthetic}"
    )


def compose_waiting_mails() -> tuple[int, collections.Counter]:
    """The agreement in force loaded and its mails composed, not delivered: the mails' ids are
    above the first returned; they are compared by kind with the same on SQLite here."""
    synthetic, at, expected = ON_SQLITE["due_now"].result()
    print(f"   on SQLite here, a sweep at {at}: {dict(sorted(expected.items()))}", flush=True)
    # The same file written and loaded in a container (the same seed gives the same file).
    write = " ".join([*synthetic[:2], "/tmp/due.yaml", *synthetic[2:]])
    dc("run", "--rm", "migrate", "sh", "-c", f"{write} && trygg load /tmp/due.yaml")
    first_id = int(sql("SELECT coalesce(max(id), 0) FROM mails")[0][0])
    # Composed by the engine's sweep in a worker, not delivered: delivery is the schedulers' to hand on.
    in_a_worker(f"from tasks import runtime; runtime.run_sweep({at!r})")
    waiting = sql(
        f"SELECT kind, count(*) FROM mails WHERE id > {first_id} AND status = 'pending' GROUP BY kind"
    )
    composed = collections.Counter({kind: int(n) for kind, n in waiting})
    assert composed == expected, (
        f"pending before the schedulers: {dict(composed)}, SQLite gives {dict(expected)}"
    )
    return first_id, expected


def scheduler_roles(after: str = "-infinity") -> dict[str, int]:
    """Scheduler processes by the role of their heartbeats (since `after`)."""
    rows = sql(
        "SELECT role, count(*) FROM heartbeats WHERE role LIKE 'scheduler%' "
        f"AND last_seen_at >= '{after}' GROUP BY role"
    )
    return {role: int(n) for role, n in rows}


def both_ticked(after: str = "-infinity") -> bool:
    """Both schedulers ticked (since `after`), or the verdict is in: two acted."""
    return scheduler_roles(after) == ONE_OF_EACH or scheduler_roles().get("scheduler", 0) > 1


@phase("two scheduler containers with mails due")
def second_scheduler() -> None:
    """Mails of an agreement in force wait in the outbox; two scheduler containers start at once.
    Only the lease holder fires (its sweep at today's date hands delivery to the workers): every
    mail reaches the sink once, by Message-ID, and the other beats as a standby through a tick."""
    first_id, expected = compose_waiting_mails()
    since = len(sink())
    # Only this phase's heartbeats (the first scheduler beat before it was stopped).
    sql("DELETE FROM heartbeats WHERE role LIKE 'scheduler%' RETURNING role")
    began = time.monotonic()
    dc("up", "-d", "--no-recreate", "--scale", "scheduler=2", "--scale", "worker=2", "scheduler")
    wait_until(lambda: len(containers("scheduler")) == 2, "two scheduler containers", 60)

    # Both tick at their start: one takes the lease and fires, the other stands by.
    wait_until(both_ticked, "both schedulers' first tick", 90, every=1)
    assert scheduler_roles() == ONE_OF_EACH, f"scheduler heartbeats by role: {scheduler_roles()}"

    def delivered():
        rows = sql(
            f"SELECT count(*) FILTER (WHERE status <> 'sent'), count(*) FROM mails WHERE id > {first_id}"
        )
        return rows[0][0] == "0" and int(rows[0][1]) >= sum(expected.values())

    wait_until(delivered, "the waiting mails to be sent while two schedulers run", 180, every=1)
    # Both tick again on the next whole minute: the standby still stands by, nothing goes twice.
    ((boundary,),) = sql("SELECT date_trunc('minute', now()) + interval '1 minute'")
    wait_until(lambda: both_ticked(boundary), "both schedulers' next tick", 90, every=2)
    wait_until(delivered, "what the next tick composed to be sent", 120, every=1)
    final = scheduler_roles()
    holders = sql("SELECT holder FROM leases")
    print(f"   heartbeats by role: {final}; lease: {holders}", flush=True)
    assert final == ONE_OF_EACH, f"a second scheduler acted: {final}"
    result = outcome(since)
    mails = int(sql(f"SELECT count(*) FROM mails WHERE id > {first_id}")[0][0])
    row = {
        "fault": "two scheduler containers at once, mails due (only the lease holder fires)",
        "mails": mails,
        "lost": result["lost"],
        "not_sent": result["not_sent"],
        "duplicates": result["duplicates"],
        "in_flight": 0,
        "recovery_s": time.monotonic() - began,
    }
    ROWS.append(row)
    print(f"   {row}", flush=True)
    assert row["lost"] == 0 and row["not_sent"] == 0, row
    assert row["duplicates"] == 0, "a mail was sent twice while two schedulers ran"
    assert result["received"] == mails, f"{result['received']} messages at the sink for {mails} mails"


@phase("web healthcheck healthy")
def web_healthy() -> None:
    (web,) = containers("web")
    wait_until(
        lambda: json.loads(docker("inspect", "--format", "{{json .State.Health.Status}}", web)) == "healthy",
        "the web container's healthcheck",
        90,
        every=3,
    )


def print_rows() -> None:
    table = [
        "| fault (containers) | mails | lost | duplicates | in flight at the fault | recovery (wall s) |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r['fault']} | {r['mails']} | {r['lost']} | {r['duplicates']} | {r['in_flight']} | {r['recovery_s']:.1f} |"
            for r in ROWS
        ),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "reliability.md").write_text("\n".join(table) + "\n")
    print("\n".join(["== compose-test: the container rows (also in var/compose/reliability.md)", *table]))
    print("== compose-test: the scenario's steps")
    for name, took in TIMES:
        print(f"| {name} | {took:.1f} |")


def main() -> None:
    # What the test expects is computed here on SQLite, while the containers work.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    ON_SQLITE["harnosand"] = pool.submit(expected_on_sqlite)
    ON_SQLITE["due_now"] = pool.submit(due_now)
    for step in (
        up_and_healthy,
        load_agreement,
        sweep_counted,
        restart_postgres,  # its sweep (2013-01-14) comes before the next one's (2013-02-11)
        kill_a_worker,
        second_scheduler,
        web_healthy,
    ):
        step()
    print_rows()


if __name__ == "__main__":
    main()
