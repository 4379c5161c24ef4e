"""What every trygg process shares: sessions from the settings, and the sweep and delivery as plain functions.

The Celery tasks, `trygg run` and `trygg sweep` all call these, so the embedded default and
the distributed deployment run the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from workflow.clock import Clock, FixedClock, SystemClock, in_window
from workflow.db import make_engine, session_factory, transaction
from workflow.engine import heartbeat
from workflow.engine.sweep import decide_activities, sweep
from workflow.links.tokens import LinkSigner, throwaway_secret, weak_secret
from workflow.links.urls import LinkSettings
from workflow.outbox.delivery import claim_lease, deliver
from workflow.outbox.transport import transport_from_settings
from workflow.settings import get_settings

_sessions: sessionmaker[Session] | None = None


def sessions() -> sessionmaker[Session]:
    """This process's session factory (one engine per process, made on first use)."""
    global _sessions
    if _sessions is None:
        _sessions = session_factory(make_engine(get_settings().database_url))
    return _sessions


def forget_engine(*, close: bool = False) -> None:
    """Drop this process's engine: in a forked child (close=False: the parent's connections are
    not ours to close), or when the settings changed (close=True)."""
    global _sessions
    if _sessions is not None:
        _sessions.kw["bind"].dispose(close=close)
    _sessions = None


def parse_instant(value: str | datetime) -> datetime:
    """An ISO instant within the years trygg accepts (ValueError otherwise, an empty string too);
    without an offset it is read in TRYGG_TIMEZONE."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return in_window(instant)


def clock_at(now: str | datetime | None) -> Clock:
    """The system clock, or a fixed one for `trygg sweep --now` and tests."""
    return SystemClock() if now is None else FixedClock(parse_instant(now))


def beat(role: str) -> None:
    """A heartbeat on the OS clock (libfaketime moves it too; --now does not)."""
    with transaction(sessions()) as session:
        heartbeat.beat(session, role, SystemClock().now())


def run_sweep(
    now: str | datetime | None = None,
    composed: Callable[[list[int]], None] | None = None,
    helpers: Callable[[datetime], None] | None = None,
) -> dict[str, Any]:
    """Decide everything due at `now` and compose the mails; `composed` is told of each batch of
    mails as it is committed, `helpers` when other processes may decide too (see
    `workflow.engine.sweep.sweep`)."""
    instant = clock_at(now).now()
    return sweep(
        sessions(), instant, ran_at=SystemClock().now(), composed=composed, helpers=helpers
    ).as_json()


def run_decide(now: str) -> dict[str, Any]:
    """Help the sweep at the instant `now` decide its due activities."""
    return decide_activities(sessions(), parse_instant(now), ran_at=SystemClock().now()).as_json()


def link_settings() -> LinkSettings:
    """Where mailed links point (TRYGG_BASE_URL) and what signs them (TRYGG_SECRET_KEY).

    With no key at all (the commands warn) links are signed with a key of this process only:
    they cannot be used, but the mails still go out rather than stop the reminders.
    """
    settings = get_settings()
    secret = settings.secret_key.get_secret_value() or throwaway_secret()
    return LinkSettings(settings.base_url, LinkSigner(secret))


def secret_weakness() -> str | None:
    """Why TRYGG_SECRET_KEY must not sign links in production (None when it is fine); never the key."""
    return weak_secret(get_settings().secret_key.get_secret_value())


def run_delivery(now: str | datetime | None = None, *, limit: int = 1000) -> dict[str, Any]:
    """Send claimable mails through the configured transport, at most `limit`."""
    settings = get_settings()
    return deliver(
        sessions(),
        clock_at(now),
        transport_from_settings(settings),
        sender=settings.mail_from,
        envelope_sender=settings.envelope_sender,
        lease=claim_lease(settings.smtp_timeout),
        links=link_settings(),
        limit=limit,
        # At another instant (`--now`) the lease still runs on the real clock: a worker at real
        # time takes the mails over only when this one has really stopped.
        lease_clock=None if now is None else SystemClock(),
    ).as_json()
