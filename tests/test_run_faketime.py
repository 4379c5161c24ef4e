"""`trygg run` (the embedded default, one process) living at another time under libfaketime."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, ROOT, _require, trygg
from tests.smtp_server import free_port
from workflow.db import make_engine, session_factory
from workflow.engine.models import Heartbeat, Lease

pytestmark = pytest.mark.slow  # a process under libfaketime, a scheduler that ticks


@pytest.fixture(autouse=True)
def _faketime():
    if shutil.which("faketime") is None:
        _require("faketime", "faketime (Debian package faketime, libfaketime) is not installed")


def _ticks(log) -> int:
    return log.read_text().count("executed successfully")


def test_trygg_run_at_another_time_sends_that_days_mails_once_and_keeps_ticking(tmp_path):
    env = {
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}",
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "TZ": "UTC",
        # `trygg run` signs links and serves the web as well: a real key, a port of its own.
        "TRYGG_SECRET_KEY": "faketime-run-" + "k" * 40,
        "TRYGG_WEB_BIND": f"127.0.0.1:{free_port()}",
    }
    assert trygg("db", "upgrade", env=env).returncode == 0
    assert trygg("load", str(HARNOSAND), env=env).returncode == 0
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115 (closed below)
    # 07:00:30 UTC is 08:00:30 in Stockholm on Monday 17 December 2012: the send hour has passed.
    # The README's recipe: --exclude-monotonic, or the scheduler's timed wait for the second tick
    # (on the monotonic clock, which libfaketime would move to 2012 too) never ends.
    command = ["faketime", "--exclude-monotonic", "2012-12-17 07:00:30"]
    proc = subprocess.Popen(
        [*command, sys.executable, "-m", "tasks.cli", "run", "--interval", "5"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # faketime runs trygg as its child: signal the whole group
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (
            len(list((tmp_path / "mail").glob("*.eml"))) < 8 or _ticks(tmp_path / "run.log") < 3
        ):
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            time.sleep(0.2)  # the files are renamed into place whole, so counting them is enough
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        if not _group_gone(proc.pid, within=30):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    names = sorted(p.name for p in (tmp_path / "mail").glob("*.eml"))
    # Eight people's mails and, on a Monday, the coordinator's weekly summary.
    assert len(names) == 9 and all(n.startswith("2012-12-17_") for n in names), names
    assert sum("_weekly_summary_" in n for n in names) == 1, names
    assert "stopping the scheduler" in (tmp_path / "run.log").read_text()
    assert _ticks(tmp_path / "run.log") >= 3  # the clock runs on: not only the first tick
    engine = make_engine(env["TRYGG_DATABASE_URL"])
    with session_factory(engine)() as session:
        assert session.scalar(select(Lease)) is None  # given up at shutdown
        beats = {h.role: h.last_seen_at for h in session.scalars(select(Heartbeat))}
    engine.dispose()
    assert set(beats) == {"scheduler", "worker"}
    assert all(at.date() == datetime(2012, 12, 17, tzinfo=UTC).date() for at in beats.values())


def _group_gone(pgid: int, within: float) -> bool:
    """Wait (bounded) until no process of the group is left: trygg itself runs under faketime."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
