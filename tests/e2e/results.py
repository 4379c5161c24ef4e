"""The reliability table of the e2e tests (docs/reliability.md): rows written by the tests, in any
xdist worker, and gathered once at the end of the run by the process that prints the summary."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FOLDER = ROOT / "var" / "e2e"
RUN = "TRYGG_E2E_RESULTS"  # the run's folder, set by the main process, inherited by xdist workers


def begin(config) -> None:
    """In the main process: a folder for this run's rows (runs in parallel do not mix rows)."""
    if hasattr(config, "workerinput"):
        return
    run = FOLDER / f"run-{os.getpid()}"
    shutil.rmtree(run, ignore_errors=True)
    os.environ[RUN] = str(run)


def write(row: dict) -> None:
    run = Path(os.environ.get(RUN) or FOLDER / f"run-{os.getpid()}")
    run.mkdir(parents=True, exist_ok=True)
    with (run / f"rows-{os.getpid()}.jsonl").open("a") as out:
        out.write(json.dumps(row) + "\n")


def summarize(config, terminalreporter) -> None:
    """In the main process: the table of every row of the run, printed and kept in var/e2e/reliability.md."""
    if hasattr(config, "workerinput") or RUN not in os.environ:
        return
    run = Path(os.environ[RUN])
    if not run.is_dir():
        return
    rows = [
        json.loads(line)
        for part in sorted(run.glob("rows-*.jsonl"))
        for line in part.read_text().splitlines()
        if line.strip()
    ]
    shutil.rmtree(run, ignore_errors=True)
    if not rows:
        return
    lines = [
        "| fault | mails | lost | duplicates | in flight at the fault | recovery (wall s) | recovery (engine clock s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['fault']} | {r['mails']} | {r['lost']} | {r['duplicates']} | {r['in_flight']} | "
            f"{r['recovery_s']:.1f} | {r['engine_clock_s']:.1f} |"
        )
    table = "\n".join(lines)
    (FOLDER / "reliability.md").write_text(table + "\n")
    terminalreporter.write_sep("-", f"reliability (also in {(FOLDER / 'reliability.md').relative_to(ROOT)})")
    terminalreporter.write_line(table)
