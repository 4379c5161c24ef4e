"""Simulation: wall time of the two-year Härnösand simulation (section 5). A placeholder until
`trygg simulate` exists (tasks.commands.simulate); it then runs the command and times it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time

from bench.common import ROOT, Section, main_for, secs

AGREEMENT = "config/agreements/harnosand-2012-2013.yaml"
RANGE = {"tiny": ("2012-01-01", "2012-01-31"), "full": ("2012-01-01", "2013-12-31")}


def available() -> bool:
    try:
        return importlib.util.find_spec("tasks.commands.simulate") is not None
    except ModuleNotFoundError:
        return False


def run(size: str = "full") -> Section:
    start_day, end_day = RANGE[size]
    shown = f"trygg simulate {AGREEMENT} --from {start_day} --to {end_day} --out DIR"
    if not available():
        body = (
            "**Placeholder — not available yet.** `trygg simulate` (tasks.commands.simulate) is being "
            f"written; once it exists, `python -m bench.simulation` runs `{shown}` and reports its wall time here."
        )
        return Section(5, "Simulation", shown, body, 0.0, {"available": False})
    with tempfile.TemporaryDirectory(prefix="trygg-bench-sim-") as out:
        args = [
            sys.executable,
            "-m",
            "tasks.cli",
            "simulate",
            AGREEMENT,
            "--from",
            start_day,
            "--to",
            end_day,
            "--out",
            out,
        ]
        started = time.perf_counter()
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        body = f"`{shown}` exited with {done.returncode}:\n\n```\n{(done.stderr or done.stdout)[-2000:]}\n```"
        return Section(5, "Simulation", shown, body, wall, {"available": True, "ok": False})
    body = f"Wall time of `{shown}` (embedded default: SQLite, in-process, mails as files): **{secs(wall)}**."
    return Section(5, "Simulation", shown, body, wall, {"available": True, "ok": True, "wall": wall})


if __name__ == "__main__":
    main_for("simulation", run)
