"""The web under load (section 6): a national deployment on PostgreSQL, 50 signed-in users, locust headless.

`trygg synthetic --agreements` makes the deployment (300 agreements × 20 activities × 15 people at full
size), loaded the ordinary way; `trygg web` serves it (gunicorn); locust (bench/web_users.py) runs the
users with session cookies signed here with the app's key — the rate-limited sign-in is not the subject.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import DBAPIError

from bench.common import ROOT, Section, command, database, machine, main_for, ms, parse_size, table, today
from web.app import create_app
from web.overview import PER_PAGE
from workflow.agreement.validate import read_agreement
from workflow.audit import UnitOfWork
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.desk.access import add_admin
from workflow.loading import load_agreement
from workflow.migrate import upgrade
from workflow.settings import Settings
from workflow.synthetic import deployment_email

TARGET = 0.150  # p95 per page, seconds
LOADERS = 2  # processes loading the deployment's files
KEY = secrets.token_urlsafe(48)  # the app's key for this run: the bench signs its users' sessions with it
ADMIN = "admin@example.org"
SIZES = {
    "tiny": (10, 20, 15, 10, 20),
    "full": (300, 20, 15, 50, 60),
}  # agreements, activities, people, users, s


def run(size: str = "full") -> Section:
    started = time.perf_counter()
    agreements, activities, people, users, seconds = SIZES[size]
    with database("postgresql") as url, tempfile.TemporaryDirectory(prefix="trygg-web-bench-") as tmp:
        folder = Path(tmp)
        loaded = _deploy(url, folder / "agreements", agreements, activities, people)
        cookies = folder / "users.json"
        cookies.write_text(json.dumps(_users(url, agreements, users)), encoding="utf-8")
        rows, load, alone, failures = _load_test(url, folder, cookies, users, seconds)
    body = _body(rows, agreements, activities, people, users, seconds, loaded)
    if failures:
        body += "\n\nWhat the failed requests answered (locust's failures file):\n\n"
        body += table(["page", "answer", "requests"], failures)
    body += (
        "\n\nOne request at a time (no other users; the time a page costs the server, without queueing):\n\n"
    )
    body += table(["page", "as", "median of 5", "slowest"], alone)
    body += (
        f"\n\nThe machine's load average when the users started: {load:.1f} on {os.cpu_count()} cores (it is "
        "shared with other work; locust's own process runs on the same cores as the server and PostgreSQL)."
    )
    worst = max((r["p95"] for r in rows if not r["missing"]), default=0.0)
    figures = {"worst_p95": worst, "met": worst <= TARGET, "rows": rows}
    return Section(
        6, "The web under load", command("web", size), body, time.perf_counter() - started, figures
    )


def _deploy(url: str, folder: Path, agreements: int, activities: int, people: int) -> float:
    """Write the deployment with `trygg synthetic --agreements`, migrate, load every file; seconds taken."""
    start = time.perf_counter()
    around = datetime.now(UTC).date()
    subprocess.run(
        [sys.executable, "-m", "tasks.cli", "synthetic", str(folder), "--agreements", str(agreements),
         "--activities", str(activities), "--people", str(people), "--around", around.isoformat()],
        check=True, cwd=ROOT, capture_output=True,
    )  # fmt: skip
    engine = make_engine(url)
    upgrade(engine)
    files = sorted(str(path) for path in folder.glob("*.yaml"))
    shares = [files[i::LOADERS] for i in range(LOADERS)]
    with ProcessPoolExecutor(LOADERS) as pool:  # one loader per core: the files are independent
        list(pool.map(_load_share, [url] * LOADERS, shares))
    with transaction(session_factory(engine)) as session:
        add_admin(UnitOfWork(session, FixedClock(datetime.now(UTC)), "cli:bench"), ADMIN)
    # The planner's statistics, as a running server's autovacuum keeps them. This machine's PostgreSQL
    # runs with autovacuum off, and freshly loaded tables without statistics get plans for empty
    # tables (a full scan of every meeting for one person's next meetings).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
        try:  # the load's writes on disk before the users come (a superuser's or pg_checkpoint's right)
            conn.exec_driver_sql("CHECKPOINT")
        except DBAPIError:
            pass
    engine.dispose()
    return time.perf_counter() - start


def _load_share(url: str, files: list[str]) -> None:
    """Load these agreement files, each in its own transaction, as `trygg load` would."""
    engine = make_engine(url)
    sessions = session_factory(engine)
    clock = FixedClock(datetime.now(UTC) - timedelta(days=60))
    for path in files:
        with transaction(sessions) as session:
            load_agreement(session, read_agreement(Path(path)), clock=clock, actor="cli:bench")
    engine.dispose()


def _users(url: str, agreements: int, users: int) -> list[dict[str, str]]:
    """`users` signed-in people across the agreements: officers, coordinators, municipal chairs, regional
    police chiefs (ten agreements each) and one administrator (all of them); their session cookies."""
    app = create_app(Settings(database_url=url, secret_key=KEY))
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    kinds = [("officer", "person-1"), ("coordinator", "samordnare"), ("management", "ordforande"),
             ("management", "chef-polis")]  # fmt: skip
    out = [{"role": "admin", "agreement": "synthetic-001", "email": ADMIN}]
    for i in range(users - 1):
        role, person = kinds[i % len(kinds)]
        number = (i * 7) % agreements + 1  # spread over the deployment
        out.append(
            {"role": role, "agreement": f"synthetic-{number:03d}", "email": deployment_email(person, number)}
        )
    for user in out:
        user["cookie"] = serializer.dumps({"email": user["email"]})
    return out


def _load_test(
    url: str, folder: Path, cookies: Path, users: int, seconds: int
) -> tuple[list[dict], float, list[list], list[list]]:
    """Serve with `trygg web` as it starts by default (two workers per core, two threads each), run
    locust headless, read its CSV."""
    port = _free_port()
    env = {
        **os.environ,
        "TRYGG_DATABASE_URL": url,
        "TRYGG_SECRET_KEY": KEY,
        "TRYGG_BENCH_USERS": str(cookies),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tasks.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("wb"),
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/healthz")
        _warm(f"http://127.0.0.1:{port}", json.loads(cookies.read_text(encoding="utf-8")))
        alone = _one_at_a_time(f"http://127.0.0.1:{port}", json.loads(cookies.read_text(encoding="utf-8")))
        load = os.getloadavg()[0]
        prefix = folder / "locust"
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "web_users.py"), "--headless",
             "-u", str(users), "-r", "10", "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
             # At the end each user finishes the page it is on: a request cut off by the stop is
             # not an answer of the server's (locust counted such as failures with status 0).
             "--stop-timeout", "10"],
            cwd=ROOT, env=env, check=False, capture_output=True,
        )  # fmt: skip
        failures = _failures(Path(f"{prefix}_failures.csv"))
        if failures and os.environ.get("TRYGG_BENCH_KEEP"):  # the server's log, to see why
            Path(os.environ["TRYGG_BENCH_KEEP"]).write_bytes((folder / "server.log").read_bytes())
        return _rows(Path(f"{prefix}_stats.csv")), load, alone, failures
    finally:
        server.terminate()
        server.wait(timeout=30)


def _rows(path: Path) -> list[dict]:
    out = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                continue
            out.append(
                {
                    "page": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50": float(row["50%"]) / 1000,
                    "p95": float(row["95%"]) / 1000,
                    "missing": "(404" in row["Name"],
                }
            )
    return sorted(out, key=lambda r: r["page"])


def _failures(path: Path) -> list[list]:
    """Each page's failed answers by kind: [page, answer, count]."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [[row["Name"], row["Error"], int(row["Occurrences"])] for row in csv.DictReader(f)]


def _verdict(r: dict) -> str:
    return "404: not there yet" if r["missing"] else ("met" if r["p95"] <= TARGET else "**missed**")


def _body(rows, agreements, activities, people, users, seconds, loaded) -> str:
    return "\n\n".join(
        [
            f"{agreements} agreements × {activities} activities × {people} people (`trygg synthetic --agreements "
            f"{agreements} --activities {activities} --people {people}`), loaded in {loaded:.0f} s ({LOADERS} processes); PostgreSQL; "
            f"`trygg web` with its defaults ({2 * (os.cpu_count() or 1)} gunicorn workers × 2 threads, gthread); {users} concurrent signed-in users for {seconds} s, each reading 1–3 s "
            "before every page (locust FastHttpUser, headless, on this machine): officers (/me), coordinators (/me, /overview, the desk "
            "home and activities), municipal chairs (one agreement), regional police chiefs (ten agreements each) "
            f"and one administrator (all {agreements}, {PER_PAGE} a page). Target: p95 ≤ {TARGET * 1000:.0f} ms per page.",
            table(
                ["page", "requests", "failures", "p50", "p95", "verdict"],
                [
                    [r["page"], r["requests"], r["failures"], ms(r["p50"]), ms(r["p95"]), _verdict(r)]
                    for r in rows
                ],
            ),
        ]
    )


def _warm(base: str, users: list[dict[str, str]]) -> None:
    """Every page of every kind of user, a few times per gunicorn worker, before measuring: each worker
    compiles its templates and works out its calendars once, and the measure is of the running server."""
    rounds = 3 * 2 * (os.cpu_count() or 1)  # workers: two per core
    for user in _kinds(users).values():
        for page in _pages(user):
            request = urllib.request.Request(
                base + page, headers={"Cookie": f"trygg_session={user['cookie']}"}
            )
            for _ in range(rounds):
                try:
                    urllib.request.urlopen(request, timeout=60).close()
                except OSError:
                    pass  # a 403 is an answer too


def _one_at_a_time(base: str, users: list[dict[str, str]]) -> list[list]:
    """Each page of the first user of each kind, five times in a row: median and slowest."""
    rows = []
    for user in _kinds(users).values():
        for page in _pages(user):
            request = urllib.request.Request(
                base + page, headers={"Cookie": f"trygg_session={user['cookie']}"}
            )
            times = []
            for _ in range(5):
                start = time.perf_counter()
                urllib.request.urlopen(request, timeout=120).read()
                times.append(time.perf_counter() - start)
            name = page.replace(user["agreement"], "<id>")
            rows.append([name, _who(user), ms(sorted(times)[2]), ms(max(times))])
    return rows


def _kinds(users: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """The first user of each role and person: an officer, a coordinator, a chair, a police chief, the admin."""
    kinds: dict[str, dict[str, str]] = {}
    for user in users:
        kinds.setdefault(_who(user), user)
    return kinds


def _who(user: dict[str, str]) -> str:
    if user["email"].startswith("chef-polis@"):
        return "management (police chief, 10 agreements)"
    return user["role"]


def _pages(user: dict[str, str]) -> list[str]:
    pages = ["/me"] + (["/overview"] if user["role"] != "officer" else [])
    if user["role"] == "coordinator":
        pages += [f"/agreements/{user['agreement']}", f"/agreements/{user['agreement']}/activities"]
    return pages


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"trygg web did not answer at {url}")


def verdicts(section: Section) -> list[tuple[str, str, str, str]]:
    """The target rows of docs/benchmarks.md: p95 per page (pages not there yet left out)."""
    return [
        (
            f"6. {r['page']}, p95 under load",
            f"≤ {TARGET * 1000:.0f} ms",
            ms(r["p95"]),
            "met" if r["p95"] <= TARGET else "**missed** — see section 6",
        )
        for r in section.figures["rows"]
        if not r["missing"]
    ]


def write_into(section: Section, path: Path) -> None:
    """Put section 6 and its target rows into an existing docs/benchmarks.md (the other sections kept)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("| 6. ")]
    text = "\n".join(lines)
    head, sep, rest = text.partition("\n## 6. ")
    if sep:
        rest = rest[rest.index("\n## ") :]
    else:
        head, rest = text.split("\n## Notes", 1)[0], "\n## Notes" + text.split("\n## Notes", 1)[1]
    rows = [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in verdicts(section)]
    first, _, after = head.partition("\n## 1. ")
    first = first.rstrip("\n") + "\n" + "\n".join(rows) + "\n\n## 1. " + after if after else head
    block = f"\n## 6. {section.title}\n\nCommand: `{section.command}` — {machine()}; {today()}; took {section.seconds:.0f} s.\n\n{section.body}\n"
    path.write_text(first.rstrip("\n") + "\n" + block + rest.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv:
        sys.argv.remove("--write")
        done = run(parse_size(sys.argv[1:]))
        write_into(done, ROOT / "docs" / "benchmarks.md")
        print(done.body)
    else:
        main_for("web", run)
