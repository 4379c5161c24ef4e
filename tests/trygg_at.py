"""`python -m tests.trygg_at <ISO instant> <trygg arguments…>`: the real `trygg` whose clock lives from another instant.

The browser tests serve the Härnösand agreement of 2012–2013, whose links are valid 30 days
from their mail, so `trygg web` must live in the scenario's time. Only the domain's clock moves
(`workflow.clock.SystemClock`, the one edge the code reads time through: tokens, answers, the
sweeps the web starts) and it runs on from the instant given. HTTP itself keeps the real time:
session cookies and their expiry are the ones a browser of today accepts, which a whole process
under libfaketime would date in 2012 (and Chromium would throw away). gunicorn forks its
workers from this process, so they inherit the clock.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from workflow import clock


def live_from(instant: datetime) -> None:
    """Make every SystemClock of this process (and of its forks) read `instant` now and run on."""
    began = time.monotonic()
    clock.SystemClock.now = lambda self: instant + timedelta(seconds=time.monotonic() - began)


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: python -m tests.trygg_at <ISO instant with zone> <trygg arguments…>")
    instant = datetime.fromisoformat(sys.argv[1])
    if instant.tzinfo is None:
        sys.exit(f"{sys.argv[1]}: give the instant with its zone (+01:00)")
    live_from(instant)
    from tasks.cli import main as trygg

    sys.argv = ["trygg", *sys.argv[2:]]
    trygg()


if __name__ == "__main__":
    main()
