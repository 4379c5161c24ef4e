"""`trygg run` serves the web beside the clock, and its web child ends with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, spawn_trygg
from tests.web_world import free_port, wait_for
from web.server import parse_bind


@pytest.mark.slow
def test_trygg_run_serves_the_web_on_its_bind_and_stops_it_on_the_way_out(tmp_path):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    assert spawn_trygg("db", "upgrade", env={"TRYGG_DATABASE_URL": url}).returncode == 0
    port = free_port()
    env = {
        **os.environ,
        "TRYGG_DATABASE_URL": url,
        "TRYGG_SECRET_KEY": "r" * 40,
        "TRYGG_WEB_BIND": f"127.0.0.1:{port}",
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tasks.cli", "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        assert b'"status":"ok"' in urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").read()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except OSError:
            return  # nobody listens any more: the web child ended with trygg run
        time.sleep(0.3)
    raise AssertionError("the web still answers after trygg run ended")


def test_a_bind_is_host_and_port():
    assert parse_bind("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_bind("[::1]:8080") == ("::1", 8080)
    assert parse_bind("0.0.0.0:80") == ("0.0.0.0", 80)
    for bad in ("8000", "host:", "host:99999", "host:x"):
        with pytest.raises(ValueError):
            parse_bind(bad)
