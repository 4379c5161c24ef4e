"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, a clock, file helpers."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tasks import runtime
from tasks.cli import app as cli_app
from tests.e2e import results as e2e_results
from tests.smtp_server import SmtpServer
from workflow import migrate
from workflow.agreement.validate import read_agreement
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.loading import load_agreement
from workflow.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
HARNOSAND = ROOT / "config" / "agreements" / "harnosand-2012-2013.yaml"
SEED = ROOT / "config" / "agreements" / "sources" / "overenskommelse-harnosand-2012-2013.txt"
POSTGRES_URL = os.environ.get("TRYGG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_postgres_state: dict[str, str | None] = {}


def pytest_configure(config) -> None:
    e2e_results.begin(config)
    if config.pluginmanager.hasplugin("xdist"):
        from tests import xdist_groups

        config.pluginmanager.register(xdist_groups.Plugin(), "trygg-xdist-groups")


# Whole-scenario files: each runs the engine over weeks of the Härnösand calendar, every mail kind,
# every hostile file, many databases of the desk, or every route as every role. They run in
# `make test` (as CI does), not in the fast lane, which must stay under a minute (`make check` is
# run constantly; about 45 s on 2 cores with these out, 1 m 56 s with them in).
SCENARIO_FILES = (
    "tests/test_hostile_time.py",
    "tests/test_hostile_input.py",
    "tests/test_hostile_delivery.py",
    "tests/test_email_snapshots.py",
    "tests/test_sql_per_page.py",
    "tests/test_agreement_lifecycle.py",
    "tests/test_meeting_mails.py",
    "tests/test_backup.py",
    "tests/test_desk_outgoing.py",
    "tests/test_export_and_reverts.py",
    "tests/test_overview.py",
    "tests/test_desk_pages.py",
    "tests/test_desk_part2.py",
    "tests/test_outbox.py",
    "tests/test_load.py",
    "tests/test_role_matrix.py",
    # Each loads an agreement (or runs sweeps and an SMTP server) per test: seconds apiece.
    "tests/test_report_first_screen.py",
    "tests/test_weekly_summary.py",
    "tests/test_plan_keep_unreadable.py",
    "tests/test_delivery_batches.py",
    "tests/test_bulk_insert.py",
    "tests/test_plan_year.py",
    "tests/test_reminder_words.py",
    "tests/test_compose_sets.py",
    # The command line in subprocesses, and the web's pages on a loaded agreement: seconds a file.
    "tests/test_cli.py",
    "tests/test_sweep_cli.py",
    "tests/test_status_cli.py",
    "tests/test_admin_cli.py",
    "tests/test_meetings.py",
    "tests/test_report.py",
    "tests/test_mail_headers.py",
    "tests/test_web_security.py",
    "tests/test_web_pages.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.nodeid.startswith(SCENARIO_FILES):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter, config) -> None:
    # Here, not in tests/e2e/conftest.py: under xdist the main process collects nothing, so it
    # never loads that file, yet it is the one that prints.
    e2e_results.summarize(config, terminalreporter)


def _postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used (None when it can); asked once per run."""
    if "reason" not in _postgres_state:
        try:
            engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
            _postgres_state["reason"] = None
        except Exception as exc:  # any failure to connect means: no server here
            _postgres_state["reason"] = f"PostgreSQL at {POSTGRES_URL} unreachable: {exc}"
    return _postgres_state["reason"]


def _require(service: str, reason: str | None) -> None:
    """Skip a test whose server is missing, with the reason; under CI=true that is a failure."""
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true requires {service}: {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    _require("PostgreSQL", _postgres_unavailable())


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections live in a schema of their own, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """An empty database on each back end (the PostgreSQL run skips without a server)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trygg.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file the migrations made, once per run (per xdist worker): each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate.upgrade(eng)
    eng.dispose()  # the last connection closes: the write-ahead log is folded into the file
    return path


class SqliteTemplates:
    """SQLite files made once per run (per xdist worker) from the migrated one, copied into tests.

    A copy costs a millisecond; migrating or loading the Härnösand agreement costs a few hundred.
    """

    def __init__(self, folder: Path, migrated: Path) -> None:
        self.folder, self.migrated = folder, migrated
        self.made: dict[str, Path] = {}

    def copy(self, name: str, build: Callable[[str], object], url: str) -> None:
        """Make the template `name` with `build(url)` if not yet made, then copy it to the SQLite `url`."""
        if name not in self.made:
            path = self.folder / f"{name}.db"
            shutil.copyfile(self.migrated, path)
            build(f"sqlite:///{path}")
            self.made[name] = path
        target = Path(url.removeprefix("sqlite:///"))
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)  # from a closed engine: must not be replayed into the copy
        # SQLite's backup, not a file copy: what is committed but still in the template's write-ahead
        # log (a command's engine may hold its connection open) is copied too.
        with contextlib.closing(sqlite3.connect(self.made[name])) as src:
            with contextlib.closing(sqlite3.connect(target)) as dst:
                src.backup(dst)


@pytest.fixture(scope="session")
def sqlite_templates(migrated_sqlite, tmp_path_factory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"), migrated_sqlite)


@pytest.fixture
def engine(db_url, sqlite_templates):
    """A database with the current schema: a copy of the migrated SQLite file, or PostgreSQL migrated."""
    if db_url.startswith("sqlite:///"):
        sqlite_templates.copy("migrated", lambda url: None, db_url)
        eng = make_engine(db_url)
    else:
        eng = make_engine(db_url)
        migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2012, 1, 2, 7, 0, tzinfo=UTC))


@pytest.fixture
def agreement_copy(tmp_path) -> Path:
    """A private copy of the Härnösand agreement, for tests that edit it."""
    dst = tmp_path / "harnosand.yaml"
    shutil.copy(HARNOSAND, dst)
    return dst


def spawn_trygg(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """The real `python -m tasks.cli` in a child process: only for tests about the process itself
    (the entry point, exit codes, a clock faked for the whole process); the rest use `trygg`."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tasks.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )


# --- Redis, an SMTP server, and a small world of agreements for the engine's tests ----------

REDIS_URL = os.environ.get("TRYGG_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")  # never db 0
_redis_state: dict[str, str | None] = {}


def _redis_unavailable() -> str | None:
    if "reason" not in _redis_state:
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
            _redis_state["reason"] = None
        except Exception as exc:  # any failure to connect means: no server here
            _redis_state["reason"] = f"Redis at {REDIS_URL} unreachable: {exc}"
    return _redis_state["reason"]


def require_redis() -> None:
    _require("Redis", _redis_unavailable())


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of the tests' own, emptied before and after."""
    require_redis()
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def smtp_server():
    """Start an aiosmtpd server with a script of replies: `smtp_server(Script(...))`."""
    started: list[SmtpServer] = []

    def start(script=None, **kwargs) -> SmtpServer:
        server = SmtpServer(script, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


LOAD_INSTANT = datetime(2012, 1, 2, tzinfo=UTC)  # when `load_file` loads, unless told


def load_file(sessions, path: Path, clock=None) -> None:
    """Load an agreement file in one transaction, as `trygg load` does."""
    with transaction(sessions) as session:
        load_agreement(
            session, read_agreement(path), clock=clock or FixedClock(LOAD_INSTANT), actor="cli:test"
        )


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def trygg(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    """The `trygg` command line, run in this process with Typer's runner (no interpreter start-up).

    As a new process would: `env` is added to the environment for the command only (the runner
    puts it back afterwards), the cached settings and the per-process engine are dropped before
    and after, and `cwd` is the working directory. An exception that is not an exit is raised.
    """
    env = {"COLUMNS": "200", **(env or {})}
    get_settings.cache_clear()
    runtime.forget_engine(close=True)
    try:
        with contextlib.chdir(cwd or ROOT):
            result = CliRunner(env=env).invoke(cli_app, list(args), prog_name="trygg")
    finally:
        get_settings.cache_clear()
        runtime.forget_engine(close=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


# Older names of `trygg`, for tests written before every CLI test ran in-process.
run_trygg = trygg_in_process = trygg


def load_harnosand(request, instant: datetime) -> None:
    """Load the Härnösand agreement at `instant` by "test" into this test's database (`engine`):
    on SQLite a copy of the file loaded once at that instant, on PostgreSQL a load."""
    engine, db_url = request.getfixturevalue("engine"), request.getfixturevalue("db_url")
    if not db_url.startswith("sqlite:///"):
        load_file(session_factory(engine), HARNOSAND, FixedClock(instant))
        return

    def build(url: str) -> None:
        eng = make_engine(url)
        load_file(session_factory(eng), HARNOSAND, FixedClock(instant))
        eng.dispose()

    engine.dispose()  # its connections closed, the file is replaced under it
    request.getfixturevalue("sqlite_templates").copy(f"harnosand-{instant:%Y%m%dT%H%M%S}", build, db_url)


@pytest.fixture
def loaded(request, sessions, clock):
    """The sessions of a database with the Härnösand agreement loaded at the `clock`'s instant."""
    load_harnosand(request, clock.now())
    return sessions


@pytest.fixture
def cli_loaded(db_url, sqlite_templates) -> str:
    """`db_url` after `trygg db upgrade` and `trygg load` of the Härnösand agreement (on SQLite a
    copy of the file those commands made once)."""

    def build(url: str) -> None:
        for args in (("db", "upgrade"), ("load", str(HARNOSAND))):
            result = trygg(*args, env={"TRYGG_DATABASE_URL": url})
            assert result.returncode == 0, result.stderr

    if db_url.startswith("sqlite:///"):
        sqlite_templates.copy("cli-loaded", build, db_url)
    else:
        build(db_url)
    return db_url


def act(sessions, clock, fn, actor="cli:anna"):
    """Run `fn(session, agreement, unit)` in one transaction on the only agreement, as a command would."""
    from workflow.audit import LoadResult, UnitOfWork
    from workflow.db import transaction
    from workflow.status import resolve_agreement

    with transaction(sessions) as session:
        agreement = resolve_agreement(session, None)
        unit = UnitOfWork(session, clock, actor, LoadResult(agreement.key, created=False))
        unit.agreement_id = agreement.id
        return fn(session, agreement, unit)


def deadline_area(owners: list[str], due) -> list[dict]:
    """A plan of one area and one goal: one deadline activity due on `due` per entry of `owners`
    ("Polis", "Enhet 1", …), as an agreement file's `plan.areas`."""
    activities = [
        {
            "id": f"akt-{i}",
            "activity": f"Aktivitet {i}",
            "timing": {"kind": "deadline", "due": due},
            "responsible": who,
        }
        for i, who in enumerate(owners, start=1)
    ]
    goal = {"id": "mal", "title": "Mål", "activities": activities}
    return [{"id": "omrade", "title": "Område", "goals": [goal]}]
