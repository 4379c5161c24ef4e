"""Throwaway servers for the end-to-end and fault tests: PostgreSQL, Redis, an SMTP sink, a shared fake clock.

Each runs on a free loopback port of its own, never on the machine's shared services, and
each has a stop that is safe to call twice; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

from aiosmtpd.controller import Controller

HERE = Path(__file__).resolve().parent
SHIM = HERE / "faketime_shim"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what: str, timeout: float, every: float = 0.1):
    """Poll `condition` until it is truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def missing_tools() -> list[str]:
    """What the e2e tests need from Debian and cannot find here."""
    missing = []
    if not pg_bin("initdb"):
        missing.append("PostgreSQL server binaries (initdb, pg_ctl)")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if not FakeClock.library():
        missing.append("libfaketime (Debian package faketime)")
    return missing


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return found[0] if found else shutil.which(name)


# --- PostgreSQL ----------------------------------------------------------------------------


class PostgresServer:
    """A cluster of its own (initdb + pg_ctl, as the postgres user when run as root)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="trygg-e2e-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.running = False

    def _run(self, *argv: str, timeout: float = 60) -> None:
        cmd = list(argv)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({result.returncode}): {result.stdout}{result.stderr}"
            )

    def init(self) -> PostgresServer:
        self._run(
            pg_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        return self.start()

    def start(self) -> PostgresServer:
        # Durability is not what these tests measure: fsync off keeps 2 cores busy with the engine.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            pg_bin("pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        )
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            self._run(pg_bin("pg_ctl"), "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")
            self.running = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(f'create database "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """redis-server on a port of its own, keeping nothing on disk (a restart empties it)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="trygg-e2e-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        log = open(self.dir / "redis.log", "a")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(self.ping, f"redis-server on port {self.port}", timeout=30)
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1).ping())
        except redis.RedisError:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.dir / 'redis.log').read_text()}") from None
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- the SMTP sink -------------------------------------------------------------------------


@dataclass
class Received:
    message_id: str
    recipient: str
    kind: str


@dataclass
class _Recorder:
    delay: float = 0.0  # seconds per accepted message: a slower server keeps deliveries in flight
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = BytesHeaderParser().parsebytes(envelope.content)
        recipients = [addr for _, addr in getaddresses(headers.get_all("To", []))]
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append(
                    Received(headers.get("Message-ID", ""), rcpt, headers.get("X-Trygg-Kind", ""))
                )
            n = len(self.received)
        assert recipients, "a mail without a To header"
        return f"250 2.0.0 Ok: queued as S{n}"


class SmtpSink:
    """An SMTP server (aiosmtpd) that accepts everything and records every message it accepted."""

    def __init__(self, delay: float = 0.0) -> None:
        self.recorder = _Recorder(delay=delay)
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, ready_timeout=30)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        try:
            self.controller.stop()
        except AssertionError:  # never started, or stopped already
            pass

    @property
    def received(self) -> list[Received]:
        with self.recorder.lock:
            return list(self.recorder.received)

    def per_message(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(r.message_id for r in self.received)

    def per_recipient(self) -> Counter[str]:
        return Counter(r.recipient for r in self.received)


# --- one fake wall clock for every engine process ------------------------------------------


class FakeClock:
    """A wall clock shared by the engine processes: libfaketime reads its offset from a file.

    Only the wall clock is faked (monotonic time stays real, so timeouts keep working); moving
    the clock for every process at once is one write. `now()` is the same clock in the tests.
    """

    def __init__(self, start: datetime) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="trygg-e2e-clock-"))
        self.file = self.dir / "faketime"
        self.offset = 0.0
        self.set(start)

    @staticmethod
    def library() -> str | None:
        found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
        return found[0] if found else None

    def set(self, instant: datetime) -> None:
        self._write(round(instant.timestamp() - time.time()))

    def advance(self, seconds: float) -> None:
        self._write(round(self.offset + seconds))

    def _write(self, offset: int) -> None:
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(f"{offset:+d}\n")
        os.replace(tmp, self.file)  # a reader never sees half an offset
        self.offset = offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, UTC)

    def env(self) -> dict[str, str]:
        return {
            "LD_PRELOAD": self.library() or "",
            "FAKETIME_TIMESTAMP_FILE": str(self.file),
            "FAKETIME_NO_CACHE": "1",  # read the file at every call: a move reaches everyone at once
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SHIM), os.environ.get("PYTHONPATH", "")])),
        }

    def destroy(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Signal a process started with start_new_session=True and its children; SIGKILL after `timeout`."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    try:  # children that outlived their parent (a prefork pool) go too
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
