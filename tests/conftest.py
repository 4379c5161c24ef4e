"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, a clock, file helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workflow import migrate
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parent.parent
HARNOSAND = ROOT / "config" / "agreements" / "harnosand-2012-2013.yaml"
SEED = ROOT.parent / "shared" / "seed" / "overenskommelse-harnosand-2012-2013.txt"
POSTGRES_URL = os.environ.get(
    "TRYGG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_postgres_state: dict[str, str | None] = {}


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


def require_postgres() -> None:
    reason = _postgres_unavailable()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true requires PostgreSQL: {reason}")
    pytest.skip(reason)


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


@pytest.fixture
def engine(db_url):
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


def run_trygg(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the real `trygg` command line in a child process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tasks.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )
