"""The test against the running containers of docker-compose.yml (called by tests/compose/run).

    python3 tests/compose/scenario.py COMPOSE-COMMAND…   (WEB_PORT, MAILPIT_PORT, BIN set)

1. `migrate` completed (exit 0) and the web's /healthz answers, its healthcheck healthy.
2. The Härnösand agreement is loaded (`run --rm migrate trygg load harnosand-2012-2013`).
3. A sweep at 2012-12-17T08:00:00+01:00 (`run --rm migrate trygg sweep --now …`) puts into the
   sink the mails the same sweep gives on SQLite here, counted by kind.
4. Faults, each while the workers deliver a sweep the engine was handed (the Celery task
   trygg.sweep at a date of the agreement), the sink taking 1 s a message:
   - `docker kill` of the worker container that is delivering;
   - `docker compose restart postgres`;
   - a second scheduler container (`up --scale scheduler=2`): it stands by, nothing twice.
   Each row: no mail lost (every mail of the database "sent" and at the sink), duplicates
   within the deliveries in flight at the fault (none for the second scheduler).
Standard library only; every wait is bounded.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "var" / "compose"
DC = sys.argv[1:]
WEB = f"http://127.0.0.1:{os.environ['WEB_PORT']}"
SINK = f"http://127.0.0.1:{os.environ['MAILPIT_PORT']}"
BIN = Path(os.environ.get("BIN", ".venv/bin"))
SWEEP_AT = "2012-12-17T08:00:00+01:00"
TIMES: list[tuple[str, float]] = []
ROWS: list[dict] = []


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


def sql(query: str) -> list[list[str]]:
    """A query through psql in the postgres container; retried while the server (re)starts."""
    psql = ["psql", "-U", "trygg", "-d", "trygg", "-At", "-F", "\t", "-c", query]
    end = time.monotonic() + 90
    while True:
        done = subprocess.run(
            [*DC, "exec", "-T", "postgres", *psql], capture_output=True, text=True, timeout=120
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


def expected_on_sqlite() -> collections.Counter:
    """The same load and sweep on SQLite here, in-process (dry run: nothing sent)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TRYGG_DATABASE_URL": f"sqlite:///{tmp}/trygg.db",
            "TRYGG_SECRET_KEY": "compose-test-" + "x" * 40,
            "TRYGG_MAIL_DIR": f"{tmp}/mail",
        }
        env.pop("TRYGG_SMTP_URL", None)
        trygg = str(BIN / "trygg")
        for args in (["db", "upgrade"], ["load", "harnosand-2012-2013"]):
            subprocess.run([trygg, *args], env=env, check=True, capture_output=True, timeout=120)
        out = subprocess.run(
            [trygg, "sweep", "--now", SWEEP_AT, "--dry-run", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    return collections.Counter(m["kind"] for m in json.loads(out)["delivery"]["sent"])


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
    settle(total, f"every mail of the sweep at {at} to be sent after: {fault}", tick=True)
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
    expected = expected_on_sqlite()
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


@phase("a second scheduler container")
def second_scheduler() -> None:
    since = len(sink())
    # The heartbeats of this phase only (the first scheduler beat before it was stopped).
    sql("DELETE FROM heartbeats WHERE role LIKE 'scheduler%' RETURNING role")
    dc("up", "-d", "--no-recreate", "--scale", "scheduler=2", "--scale", "worker=2", "scheduler")
    wait_until(lambda: len(containers("scheduler")) == 2, "two scheduler containers", 60)
    began = time.monotonic()

    def both_beat():
        kinds = dict((k, int(n)) for k, n in sql("SELECT role, count(*) FROM heartbeats GROUP BY role"))
        return kinds if kinds.get("scheduler") == 1 and kinds.get("scheduler-standby") == 1 else None

    # Each ticks once a minute: one holds the lease and acts, the other stands by.
    kinds = wait_until(both_beat, "one acting scheduler and one standing by", 180, every=5)
    time.sleep(65)  # another tick of each
    holders = sql("SELECT holder FROM leases")
    print(f"   heartbeats by role: {kinds}; lease: {holders}", flush=True)
    assert both_beat(), "a second scheduler acted"
    final = outcome(0)
    print(f"   the whole run: {final}", flush=True)
    assert final["lost"] == 0 and final["not_sent"] == 0, final
    ROWS.append(
        {
            "fault": "a second scheduler container (nothing due: only the lease holder acts)",
            "mails": final["mails"],
            "lost": final["lost"],
            "duplicates": len(sink()) - since,
            "in_flight": 0,
            "recovery_s": time.monotonic() - began,
        }
    )
    assert ROWS[-1]["duplicates"] == 0, "mail was sent while two schedulers ran"


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
