"""Secrets are never echoed (issue 13): failing commands with planted passwords, every output grepped.

The SMTP password holds `/`, `#` and `?` (which broke urlsplit and put it in a traceback); the
database password and TRYGG_SECRET_KEY are planted beside it. Each command fails on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT
from tests.smtp_server import free_port
from tests.test_hostile_delivery import ten_people
from workflow.db import make_engine, session_factory
from workflow.outbox.models import Mail
from workflow.settings import SettingError, SmtpConfig

SMTP_SECRET = "Sm7p/pa#ss?word"
DB_SECRET = "Db-pa/ss#word?x"
KEY_SECRET = "key-6f1e9c-never-shown-in-any-log-or-page"  # long enough for `trygg run` to start
SECRETS = (SMTP_SECRET, DB_SECRET, KEY_SECRET, "Sm7p", "Db-pa", "6f1e9c")
AT_EIGHT = datetime(2013, 3, 15, 8, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


def run_trygg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real `trygg` in a child process: what an operator sees, tracebacks and all."""
    return subprocess.run(
        [sys.executable, "-m", "tasks.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=120,
    )


def assert_no_secret(*outputs: str) -> None:
    text = "\n".join(outputs)
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} was shown:\n{text[-3000:]}"


def smtp_url(port: int, query: str = "") -> str:
    return f"smtp://trygg:{SMTP_SECRET}@127.0.0.1:{port}{query}"


@pytest.mark.slow  # runs trygg in child processes
@pytest.mark.parametrize(
    ("command", "smtp", "exit_code", "named"),
    [
        (("sweep",), "smtp://trygg:{s}@127.0.0.1:2x5", 2, "TRYGG_SMTP_URL"),  # a bad port
        (("run", "--interval", "5"), "smtp://trygg:{s}@127.0.0.1:25", 2, "clear text"),  # AUTH in clear
        (("mail", "test", "a@example.org"), "smtps//trygg:{s}@mail", 2, "TRYGG_SMTP_URL"),  # no scheme
        (("status",), "smtp://trygg:{s}@?tls=none", 2, "TRYGG_SMTP_URL"),  # no host
    ],
)
def test_a_bad_smtp_url_is_named_never_shown(tmp_path, command, smtp, exit_code, named):
    env = {
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TRYGG_SMTP_URL": smtp.format(s=SMTP_SECRET),
        "TRYGG_SECRET_KEY": KEY_SECRET,
    }
    result = run_trygg(*command, env=env)
    assert result.returncode == exit_code and named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_parsing_errors_never_carry_the_value():
    for url in ("smtp://u:{s}@h:99999", "smtp://u:{s}@", "ftp://u:{s}@h", "smtp://u:{s}@h?tls=maybe"):
        with pytest.raises(SettingError) as caught:
            SmtpConfig.from_url(url.format(s=SMTP_SECRET))
        assert_no_secret(str(caught.value), repr(caught.value))
    config = SmtpConfig.from_url(smtp_url(587))
    assert config.password == SMTP_SECRET and config.host == "127.0.0.1"
    assert_no_secret(repr(config))


@pytest.mark.slow  # runs trygg in child processes
def test_failing_commands_on_a_broken_database_never_show_its_password(tmp_path):
    env = {
        "TRYGG_SMTP_URL": smtp_url(free_port(), "?tls=none"),
        "TRYGG_SECRET_KEY": KEY_SECRET,
    }
    for url in (
        f"postgresql+psycopg://trygg:{DB_SECRET}@127.0.0.1:{free_port()}/trygg",  # nobody listening
        f"postgresql+psycopg://trygg:{DB_SECRET}@127.0.0.1:port/trygg",  # not a URL
    ):
        for command in (("status",), ("sweep",), ("load", "harnosand-2012-2013"), ("db", "upgrade")):
            result = run_trygg(*command, env={**env, "TRYGG_DATABASE_URL": url})
            assert result.returncode != 0
            assert_no_secret(result.stdout, result.stderr)


@pytest.mark.slow  # runs trygg in child processes
def test_mail_that_cannot_reach_the_server_never_shows_the_password(tmp_path):
    env = {
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TRYGG_SMTP_URL": smtp_url(free_port(), "?tls=none"),  # nobody listening
        "TRYGG_SECRET_KEY": KEY_SECRET,
    }
    tested = run_trygg("mail", "test", "anna@example.org", env=env)
    assert tested.returncode == 1 and "Connection" in tested.stderr
    assert run_trygg("db", "upgrade", env=env).returncode == 0
    assert run_trygg("load", str(ten_people(tmp_path)), env=env).returncode == 0
    swept = run_trygg("sweep", "--now", AT_EIGHT.isoformat(), env=env)
    assert swept.returncode == 0 and "Connection" in swept.stdout
    assert_no_secret(tested.stdout, tested.stderr, swept.stdout, swept.stderr)


@pytest.mark.slow
def test_trygg_run_logs_no_secret_tick_after_tick(tmp_path):
    """`trygg run` used to log the password on every tick: run it until it has retried, then grep."""
    env = {
        **os.environ,
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TRYGG_SMTP_URL": smtp_url(free_port(), "?tls=none"),
        "TRYGG_SECRET_KEY": KEY_SECRET,
        "TRYGG_WEB_BIND": f"127.0.0.1:{free_port()}",  # `trygg run` serves the web too
    }
    assert run_trygg("db", "upgrade", env=env).returncode == 0
    assert run_trygg("load", str(ten_people(tmp_path)), env=env).returncode == 0
    assert run_trygg("sweep", "--now", AT_EIGHT.isoformat(), env=env).returncode == 0  # ten retries
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tasks.cli", "run", "--interval", "5"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        sessions = session_factory(make_engine(env["TRYGG_DATABASE_URL"]))
        try:
            deadline = time.monotonic() + 90  # a bound, never an expectation
            while time.monotonic() < deadline and proc.poll() is None:
                with sessions() as session:
                    if session.scalar(select(func.min(Mail.attempts))) >= 2:  # a tick delivered again
                        break
                time.sleep(0.2)
            with sessions() as session:
                assert session.scalar(select(func.min(Mail.attempts))) >= 2, log.read_text()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            sessions.kw["bind"].dispose()
    assert_no_secret(log.read_text())
