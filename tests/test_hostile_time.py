"""Hostile times and odd faults (issue 13): dates out of range, empty instants, a database that is
not ready, output that cannot be written. Each is a clear error with its exit code; none changes
the database or leaves a next action where no sweep will reach it."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, spawn_trygg, trygg
from workflow import models
from workflow.db import make_engine
from workflow.engine import sweep as engine_sweep
from workflow.outbox.batch import RETRY_BROKEN_ROW
from workflow.outbox.notices import Decision
from workflow.plan.models import Activity
from workflow.reminders.sweep import ACTIVITIES


@pytest.fixture
def env(db_url, tmp_path) -> dict[str, str]:
    env = {
        "TRYGG_DATABASE_URL": db_url,
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "TRYGG_LANGUAGE": "sv",
        "COLUMNS": "200",
    }
    assert trygg("db", "upgrade", env=env).returncode == 0
    loaded = trygg("load", str(HARNOSAND), env=env)
    assert loaded.returncode == 0, loaded.stderr
    return env


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: the database, to compare before and after."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(map(tuple, conn.execute(table.select())), key=repr)
                for table in models.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def sent(env) -> list[str]:
    folder = Path(env["TRYGG_MAIL_DIR"])
    return sorted(p.name for p in folder.glob("*.eml")) if folder.exists() else []


def test_a_sweep_in_year_9999_is_refused_and_changes_nothing(env):
    before = snapshot(env["TRYGG_DATABASE_URL"])
    result = spawn_trygg("sweep", "--now", "9999-12-31T23:59:59+01:00", env=env)
    assert result.returncode == 2, result.stderr
    assert "--now" in result.stderr and "1970–2200" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(env["TRYGG_DATABASE_URL"]) == before
    assert sent(env) == []


@pytest.mark.parametrize("value", ["", "   ", "i morgon"])
def test_an_empty_or_unreadable_now_is_refused_not_taken_as_now(env, value):
    before = snapshot(env["TRYGG_DATABASE_URL"])
    result = trygg("sweep", "--now", value, env=env)
    assert result.returncode == 2
    assert "--now" in result.stderr
    assert snapshot(env["TRYGG_DATABASE_URL"]) == before
    assert sent(env) == []


OUT_OF_RANGE = [
    ("sweep", "--now", "0001-01-01T00:00:00+01:00", "--dry-run"),
    ("sweep", "--now", "2200-12-31T23:30:00-01:00"),  # already 2201 in UTC
    ("report", "--year", "9999"),
    ("report", "--year", "0"),
    ("calendar", "--from", "0001-01-01", "--to", "0001-01-31"),
    ("calendar", "--from", "9999-12-01", "--to", "9999-12-31"),
    ("activity", "extend", "ung-kontaktuppgifter", "--to", "9999-12-31", "--reason", "x"),
    ("activity", "extend", "ung-kontaktuppgifter", "--to", "", "--reason", "x"),
    ("activity", "trigger", "ung-kontaktuppgifter", "--on", "0001-01-01", "--note", "x"),
    ("meeting", "add", "--title", "x", "--start", "9999-12-31T10:00"),
    ("meeting", "add", "--title", "x", "--start", ""),
    ("plan", "import", str(HARNOSAND), "--year", "99999"),
    ("simulate", str(HARNOSAND), "--from", "0001-01-01", "--to", "0001-02-01", "--out", "sim"),
    ("simulate", str(HARNOSAND), "--from", "1970-01-01", "--to", "2200-12-31", "--out", "sim"),
]


@pytest.mark.parametrize("args", OUT_OF_RANGE, ids=lambda a: " ".join(a[:4]))
def test_a_date_outside_the_window_is_refused_with_exit_2_and_changes_nothing(env, args, tmp_path):
    before = snapshot(env["TRYGG_DATABASE_URL"])
    args = tuple(str(tmp_path / "sim") if a == "sim" else a for a in args)
    result = trygg(*args, env=env)  # an exception would be raised here, not swallowed
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Invalid value" in result.stderr
    assert snapshot(env["TRYGG_DATABASE_URL"]) == before
    assert sent(env) == [] and not (tmp_path / "sim").exists()


def test_a_day_far_outside_the_period_is_allowed_with_a_warning(env):
    result = trygg("calendar", "--from", "2150-01-01", "--to", "2150-01-31", env=env)
    assert result.returncode == 0, result.stderr
    assert "varning" in result.stderr and "2012-01-01 – 2013-12-31" in result.stderr
    quiet = trygg("calendar", "--from", "2012-01-01", "--to", "2012-01-31", env=env)
    assert quiet.returncode == 0 and "varning" not in quiet.stderr


def test_an_agreement_ending_after_2200_is_a_located_error(tmp_path):
    text = HARNOSAND.read_text(encoding="utf-8")
    lines = text.splitlines()
    line = next(n for n, s in enumerate(lines, start=1) if s.strip() == "end: 2013-12-31")
    file = tmp_path / "long.yaml"
    file.write_text(text.replace("  end: 2013-12-31", "  end: 2201-01-01", 1), encoding="utf-8")
    result = spawn_trygg("check", str(file))
    assert result.returncode == 2, result.stderr
    assert f"{file}:{line}:3: period.end:" in result.stderr and "1970–2200" in result.stderr
    assert "Traceback" not in result.stderr


# --- the error paths of the sweep: no next action far ahead ---------------------------------


def _with_activities(monkeypatch, decide) -> None:
    broken = dataclasses.replace(ACTIVITIES, decide=decide)
    monkeypatch.setattr(engine_sweep, "due_items", lambda: (broken,))


def _next_actions(sessions) -> set[datetime]:
    """The activities' next actions (those with none are never due, so no sweep reads them)."""
    with sessions() as session:
        return set(
            session.scalars(select(Activity.next_action_at).where(Activity.next_action_at.is_not(None)))
        )


def test_a_broken_row_is_retried_an_hour_after_the_real_time_not_after_a_simulated_now(loaded, monkeypatch):
    def boom(state, row, now):
        raise RuntimeError("a rule that fails")

    _with_activities(monkeypatch, boom)
    really = datetime(2012, 12, 17, 7, 0, tzinfo=UTC)
    # A simulated instant after the period, within its grace (after it the agreement has ended).
    report = engine_sweep.sweep(loaded, datetime(2014, 1, 20, 7, 0, tzinfo=UTC), ran_at=really)
    assert report.items > 0 and len(report.errors) == report.items
    assert _next_actions(loaded) == {really + RETRY_BROKEN_ROW}


def test_a_next_action_past_the_window_counts_as_a_broken_row(loaded, monkeypatch):
    _with_activities(monkeypatch, lambda state, row, now: Decision((), datetime(9999, 1, 1, tzinfo=UTC)))
    now = datetime(2014, 1, 20, 7, 0, tzinfo=UTC)  # after the period, in its grace: every activity is due
    report = engine_sweep.sweep(loaded, now)
    assert report.items > 0 and all("past 2201" in e for e in report.errors)
    assert _next_actions(loaded) == {now + RETRY_BROKEN_ROW}


def test_the_sweep_itself_refuses_an_instant_outside_the_window(loaded):
    with pytest.raises(ValueError, match="1970–2200"):
        engine_sweep.sweep(loaded, datetime(9999, 12, 31, tzinfo=UTC))
    with pytest.raises(ValueError, match="1970–2200"):
        engine_sweep.sweep(loaded, datetime(1969, 12, 31, 23, 0, tzinfo=UTC))


# --- a database that is not ready ------------------------------------------------------------


@pytest.mark.slow  # waits for the connection to be refused
def test_a_database_that_cannot_be_reached_exits_3_without_a_traceback_or_the_password(tmp_path):
    env = {"TRYGG_DATABASE_URL": "postgresql+psycopg://trygg:Hemligt42@127.0.0.1:1/trygg"}
    for args in (("status",), ("load", str(HARNOSAND)), ("sweep",), ("db", "current"), ("db", "upgrade")):
        result = spawn_trygg(*args, env=env)
        assert result.returncode == 3, (args, result.stderr)
        assert "Traceback" not in result.stderr and "Hemligt42" not in result.stdout + result.stderr
        assert "127.0.0.1" in result.stderr


def test_a_file_that_is_not_a_database_exits_3(tmp_path):
    garbage = tmp_path / "trygg.db"
    garbage.write_bytes(b"not a database, only words" * 100)
    env = {"TRYGG_DATABASE_URL": f"sqlite:///{garbage}"}
    for args in (("status",), ("db", "current")):
        result = trygg(*args, env=env)
        assert result.returncode == 3 and "not a database" in result.stderr


def test_a_database_without_the_schema_exits_3(tmp_path):
    result = trygg("status", env={"TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    assert result.returncode == 3 and "trygg db upgrade" in result.stderr


# --- output that cannot be written -----------------------------------------------------------


def test_output_to_a_directory_is_a_clear_error_naming_the_path(env, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    file = tmp_path / "a-file"
    file.write_text("")
    cases = [
        ("report", "--year", "2012", "--out", str(folder)),
        ("calendar", "--from", "2012-01-01", "--to", "2012-12-31", "--ics", str(folder)),
        ("report", "--year", "2012", "--out", str(tmp_path / "missing" / "r.html")),
        ("simulate", str(HARNOSAND), "--from", "2012-01-01", "--to", "2012-01-02", "--out", str(file)),
    ]
    for args in cases:
        result = trygg(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert args[-1] in result.stderr.replace("\n", ""), result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full (a device that is always full)")
def test_a_full_disk_is_a_clear_error_not_a_traceback(env):
    result = spawn_trygg("report", "--year", "2012", "--out", "/dev/full", env=env)
    assert result.returncode == 1
    assert "/dev/full" in result.stderr and "Traceback" not in result.stderr


def test_the_window_is_1970_to_2200():
    from workflow.clock import OutOfWindow, in_window

    assert in_window(datetime(2200, 12, 31, 23, 59, tzinfo=UTC))
    assert in_window(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=1))
    with pytest.raises(OutOfWindow):
        in_window(datetime(2201, 1, 1, tzinfo=UTC))
