"""`trygg web`: the pages people answer on, served by gunicorn; the secret-key refusal it shares with `trygg run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Annotated

import typer

from tasks import runtime
from tasks.commands.common import EXIT_INPUT, EXIT_STATE, engine, err, require_schema
from workflow.i18n import _, _l
from workflow.links.tokens import MIN_SECRET_LENGTH, throwaway_secret, weak_secret
from workflow.settings import get_settings

HostOpt = Annotated[
    str | None, typer.Option("--host", help=_l("address to listen on (default from TRYGG_WEB_BIND)"))
]
PortOpt = Annotated[
    int | None,
    typer.Option("--port", min=1, max=65535, help=_l("port to listen on (default from TRYGG_WEB_BIND)")),
]
DemoOpt = Annotated[
    bool,
    typer.Option(
        "--demo", help=_l("allow a weak or empty TRYGG_SECRET_KEY (links signed with it can be forged)")
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, max=64, help=_l("gunicorn worker processes (default: two per core)")),
]
ThreadsOpt = Annotated[
    int,
    typer.Option("--threads", min=1, max=64, help=_l("threads per worker (requests served at once by each)")),
]


def web(
    host: HostOpt = None,
    port: PortOpt = None,
    demo: DemoOpt = False,
    workers: WorkersOpt = None,
    threads: ThreadsOpt = 2,
) -> None:
    """Serve the web with gunicorn."""
    require_secret(demo)
    require_schema(engine())
    bind_host, bind_port = bind_of(host, port)
    serve_web(bind_host, bind_port, workers, threads=threads)


def require_secret(demo: bool) -> None:
    """Exit 3 when TRYGG_SECRET_KEY could be guessed (anyone could then forge links), unless a demo.

    In a demo an empty key becomes a throwaway one for this process and its children."""
    reason = weak_secret(get_settings().secret_key.get_secret_value())
    if reason is None:
        return
    why = _weakness(reason)
    if not demo:
        err.print(
            _(
                "[red]%(why)s:[/] links in mails could be forged. Set a random key of at "
                "least 32 characters, made for example with\n"
                '  python -c "import secrets; print(secrets.token_urlsafe(48))"\n'
                "or try it out with --demo.",
                why=why,
            ),
            highlight=False,
        )
        raise typer.Exit(EXIT_STATE)
    err.print(
        _(
            "[yellow]warning:[/] a demo: %(why)s; do not use these links for real.",
            why=why,
        )
    )
    if not get_settings().secret_key.get_secret_value():
        os.environ["TRYGG_SECRET_KEY"] = throwaway_secret()
        get_settings.cache_clear()
        runtime.forget_engine()


def _weakness(reason: str) -> str:
    """What is wrong with the key, in the reader's language (workflow.links.tokens.weak_secret's reason)."""
    if reason == "empty":
        return _("TRYGG_SECRET_KEY is not set")
    if reason == "the default":
        return _("TRYGG_SECRET_KEY is the default change-me")
    return _("TRYGG_SECRET_KEY is shorter than %(count)s characters", count=MIN_SECRET_LENGTH)


def bind_of(host: str | None, port: int | None) -> tuple[str, int]:
    """--host and --port, each defaulting to TRYGG_WEB_BIND's part."""
    from web.server import parse_bind

    bind = get_settings().web_bind
    try:
        default_host, default_port = parse_bind(bind)
    except ValueError:
        err.print(_("[red]TRYGG_WEB_BIND must be HOST:PORT, e.g. 127.0.0.1:8000[/]"), highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    return host or default_host, port or default_port


def serve_web(
    host: str, port: int, workers: int | None, kick: Callable[[], None] | None = None, *, threads: int = 2
) -> None:
    """gunicorn in this process until it is stopped (SIGTERM, SIGINT)."""
    from web.server import Server

    Server(lambda: make_app(kick), host, port, workers, threads).run()


def make_app(kick: Callable[[], None] | None = None):
    """The app as a gunicorn worker builds it: this process's settings, the kick of its deployment."""
    from web.app import create_app

    return create_app(get_settings(), sessions=runtime.sessions(), kick=kick or default_kick())


def default_kick() -> Callable[[], None]:
    """With a broker, a sweep task now; embedded, one background sweep and delivery at a time."""
    if get_settings().broker_url:

        def kick_celery() -> None:
            from tasks import jobs

            jobs.sweep.delay()

        return kick_celery
    return EmbeddedKick()


class EmbeddedKick:
    """Sweep then deliver in a background thread; kicks while one runs fold into one more run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._again = threading.Event()
        self._running = False

    def __call__(self) -> None:
        with self._lock:
            self._again.set()
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="trygg-kick", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._again.is_set():
                    self._running = False
                    return
                self._again.clear()
            try:
                runtime.run_sweep()
                runtime.run_delivery()
            except Exception:  # the next tick of `trygg run` (or the next kick) tries again
                import logging

                logging.getLogger("trygg.web").exception("sweep after an answer failed")


def start_web_child(demo: bool) -> subprocess.Popen:
    """`trygg web` on TRYGG_WEB_BIND as a child of `trygg run`, one worker.

    A child process, not a thread: gunicorn's arbiter wants its own main thread and signals, and a
    crash in a page cannot take the sweep down. The child gets SIGTERM if `trygg run` dies (Linux
    parent-death signal) and is stopped by `stop_web_child` when it ends normally.
    """
    host, port = bind_of(None, None)
    argv = [sys.executable, "-m", "tasks.cli", "web", "--host", host, "--port", str(port), "--workers", "1"]
    if demo:
        argv.append("--demo")
    return subprocess.Popen(argv, env=os.environ.copy(), preexec_fn=_die_with_parent)


def stop_web_child(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: stop_web_child still stops it on a normal exit
        pass
