"""Loaded (through PYTHONPATH) only by the engine processes the e2e tests run under libfaketime.

The tests fake the wall clock alone (FAKETIME_DONT_FAKE_MONOTONIC=1), so that timed waits on
locks keep working; libfaketime 0.9.10 then mistranslates the absolute monotonic deadline of
Python's time.sleep (clock_nanosleep) and it fails with EINVAL. A lock wait sleeps instead.
"""

import os
import threading
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        threading.Event().wait(seconds)

    time.sleep = _sleep
