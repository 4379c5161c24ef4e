"""gunicorn serving the app (its BaseApplication API): production WSGI, tokens redacted from its logs."""

from __future__ import annotations

import os
from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication

# gunicorn's access-log format with the request line only (`%(r)s`), never a query string alone;
# web.logs.RedactingLogger redacts the token paths in it.
ACCESS_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'


def parse_bind(bind: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 as [::1]:8000) → (host, port); ValueError when it is not one."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(bind)
    return host.strip("[]") or "127.0.0.1", int(port)


def default_workers() -> int:
    """Two worker processes per core (gunicorn's own rule is about 2 × cores + 1)."""
    return 2 * (os.cpu_count() or 1)


class Server(BaseApplication):
    """The web app under gunicorn: threaded workers, logs to stderr, tokens never logged.

    Two processes per core, each with two threads: a page spends part of its time waiting on the
    database, and meanwhile another request runs. More processes rather than more threads, because
    a process's threads take turns on one interpreter lock: with bench/web.py's 50 users on two
    cores, 2 × 4 gave /me a p50 of 58 ms and 4 × 2 one of 44 ms, in back-to-back runs. Each
    request has its own database session (`web.context.db`), so threads share nothing but the
    engine's pool."""

    def __init__(
        self,
        make_app: Callable[[], Flask],
        host: str,
        port: int,
        workers: int | None = None,
        threads: int = 2,
    ) -> None:
        workers = workers or default_workers()
        self.make_app = make_app
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": "-",
            "errorlog": "-",
            "access_log_format": ACCESS_FORMAT,
            "logger_class": "web.logs.RedactingLogger",
            "forwarded_allow_ips": "127.0.0.1,::1",
            "proc_name": "trygg-web",
            "control_socket_disable": True,  # no socket in ~/.gunicorn: nothing here manages it
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.make_app()
