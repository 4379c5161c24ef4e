"""Simulation: wall time of the two-year Härnösand simulation (section 5): `trygg simulate` run as
`make demo` runs it, timed; then once more in this process to tell the PDF rendering of the yearly
reports apart (its own line)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

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
    pdf, calls, inside = pdf_share(start_day, end_day)
    body = "\n\n".join(
        [
            f"Wall time of `{shown}` (embedded default: SQLite, in-process, mails as files), the interpreter's "
            f"start and imports included: **{secs(wall)}** (target ≤ 5 s).",
            f"Run again inside this process ({secs(inside)}): the PDF rendering of the yearly reports took "
            f"{secs(pdf)} of it ({calls} PDF files, WeasyPrint).",
        ]
    )
    figures = {"available": True, "ok": True, "wall": wall, "pdf": pdf, "pdf_calls": calls}
    return Section(5, "Simulation", shown, body, wall, figures)


def pdf_share(start_day: str, end_day: str) -> tuple[float, int, float]:
    """(seconds spent making PDFs, how many, the whole run) of one simulation in this process."""
    from workflow.report import attachment
    from workflow.simulation.behaviour import Behaviour
    from workflow.simulation.run import simulate

    spent = {"pdf": 0.0, "calls": 0}
    original = attachment.report_pdf

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["pdf"] += time.perf_counter() - started
            spent["calls"] += 1

    attachment.report_pdf = timed
    try:
        with tempfile.TemporaryDirectory(prefix="trygg-bench-sim-") as out:
            started = time.perf_counter()
            simulate(
                ROOT / AGREEMENT,
                date.fromisoformat(start_day),
                date.fromisoformat(end_day),
                Path(out),
                Behaviour(),
            )
            inside = time.perf_counter() - started
    finally:
        attachment.report_pdf = original
    return spent["pdf"], spent["calls"], inside


if __name__ == "__main__":
    main_for("simulation", run)
