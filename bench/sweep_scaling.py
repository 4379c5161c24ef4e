"""Sweep scaling: 1,000 due among 10k, 100k and 1M open activities, on SQLite and PostgreSQL.

The table is grown in place (10k → 100k → 1M; the same 1,000 rows are the due ones) and at
each size the real sweep (workflow.engine.sweep.sweep) runs: `decide` is run_batch (read the
due rows by next_action_at, decide, insert the notices, move next_action_at), `compose` gathers
the notices into mails. Cold: the first sweep at a size in a fresh engine (new connections;
the server's and the OS's caches are not emptied — a shared machine). Warm: the median of
`repeats` sweeps, each after the due rows are made due again and the notices and mails deleted.
`idle` is a sweep with nothing due, what every tick costs.
"""

from __future__ import annotations

import time

from sqlalchemy import text

from bench.common import Section, command, database, main_for, median, ms, table
from bench.world import NOW, grow, open_world, reset_due
from workflow.db import make_engine, session_factory
from workflow.engine import sweep as runtime_sweep

SIZES = {"tiny": (200, 1_000), "full": (10_000, 100_000, 1_000_000)}
DUE = {"tiny": 50, "full": 1_000}
REPEATS = {"tiny": 1, "full": 3}
BACKENDS = ("sqlite", "postgresql")


def timed_sweep(sessions) -> dict[str, float]:
    """One real sweep, with the time spent deciding and composing told apart."""
    spent = {"decide": 0.0, "compose": 0.0}
    originals = runtime_sweep.run_batch, runtime_sweep.compose

    def timing(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapper

    runtime_sweep.run_batch = timing("decide", originals[0])
    runtime_sweep.compose = timing("compose", originals[1])
    try:
        start = time.perf_counter()
        report = runtime_sweep.sweep(sessions, NOW)
        spent["total"] = time.perf_counter() - start
    finally:
        runtime_sweep.run_batch, runtime_sweep.compose = originals
    spent.update(items=report.items, notices=report.notices, mails=len(report.mails))
    return spent


def due_query_plan(world) -> str:
    """How the database finds the due rows (PostgreSQL: EXPLAIN of the sweep's query)."""
    if world.backend != "postgresql":
        with world.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "explain query plan select id from activities where next_action_at <= :now "
                    "and state in ('open', 'in_progress') order by next_action_at, id limit 200"
                ),
                {"now": NOW.astimezone().strftime("%Y-%m-%d %H:%M:%S.000000")},
            ).all()
        return "; ".join(r[-1] for r in rows)
    with world.engine.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "explain select id from activities where next_action_at <= :now "
                    "and state in ('open', 'in_progress') order by next_action_at, id limit 200 for update skip locked"
                ),
                {"now": NOW},
            )
            .scalars()
            .all()
        )
    return " / ".join(r.strip() for r in rows if "Scan" in r)


def measure(size: str) -> list[dict]:
    results = []
    for backend in BACKENDS:
        with database(backend) as url:
            world = open_world(url)
            for n in SIZES[size]:
                build = grow(world, n, due=DUE[size])
                fresh = make_engine(url)  # cold: new connections, nothing cached in this process's pool
                cold = timed_sweep(session_factory(fresh))
                fresh.dispose()
                warm = []
                for _ in range(REPEATS[size]):
                    reset_due(world)
                    warm.append(timed_sweep(world.sessions))
                idle = timed_sweep(world.sessions)
                reset_due(world)
                results.append(
                    {
                        "backend": backend,
                        "n": n,
                        "build": build,
                        "cold": cold,
                        "warm": {k: median([w[k] for w in warm]) for k in ("decide", "compose", "total")},
                        "counts": warm[-1],
                        "idle": idle["total"],
                        "plan": due_query_plan(world),
                    }
                )
            world.engine.dispose()
    return results


def run(size: str = "full") -> Section:
    start = time.perf_counter()
    results = measure(size)
    figures = {backend: _scaling(results, backend) for backend in BACKENDS}
    plans = "\n".join(
        f"- {r['backend']} at {r['n']:,}: `{r['plan']}`"
        for r in results
        if r is results[-1] or r["n"] == SIZES[size][-1]
    )
    body = "\n\n".join(
        [
            table(
                [
                    "back end",
                    "open items",
                    "due items / notices / mails",
                    "cold sweep",
                    "warm: decide",
                    "warm: compose",
                    "warm: total",
                    "idle sweep (0 due)",
                    "build (bulk SQL)",
                ],
                [_size_row(r) for r in results],
            ),
            "Cost at the largest size over cost at the smallest (warm medians):",
            table(
                ["back end", "sizes", "total ratio", "decide ratio", "idle ratio"],
                [_ratio_row(results, backend, figures[backend]) for backend in BACKENDS],
            ),
            "How the due rows are found at the largest size:\n\n" + plans,
        ]
    )
    return Section(
        1, "Sweep scaling", command("sweep_scaling", size), body, time.perf_counter() - start, figures
    )


def _size_row(r: dict) -> list[str]:
    """One back end at one size: counts, cold, warm and idle sweeps, build time."""
    c, w = r["counts"], r["warm"]
    return [
        r["backend"],
        f"{r['n']:,}",
        f"{c['items']:,} / {c['notices']:,} / {c['mails']:,}",
        ms(r["cold"]["total"]),
        ms(w["decide"]),
        ms(w["compose"]),
        f"**{ms(w['total'])}**",
        ms(r["idle"]),
        f"{r['build']:.1f} s",
    ]


def _smallest_and_largest(results: list[dict], backend: str) -> tuple[dict, dict]:
    mine = [r for r in results if r["backend"] == backend]
    return mine[0], mine[-1]


def _scaling(results: list[dict], backend: str) -> dict[str, float]:
    """How a back end's sweep cost grows from the smallest size to the largest (warm medians)."""
    small, big = _smallest_and_largest(results, backend)
    return {
        "at_largest": big["warm"]["total"],
        "ratio": big["warm"]["total"] / small["warm"]["total"],
        "idle_ratio": big["idle"] / small["idle"],
        "decide_ratio": big["warm"]["decide"] / small["warm"]["decide"],
    }


def _ratio_row(results: list[dict], backend: str, scaling: dict[str, float]) -> list[str]:
    small, big = _smallest_and_largest(results, backend)
    return [
        backend,
        f"{big['n']:,} / {small['n']:,}",
        f"**{scaling['ratio']:.2f}**",
        f"{scaling['decide_ratio']:.2f}",
        f"{scaling['idle_ratio']:.2f}",
    ]


if __name__ == "__main__":
    main_for("sweep_scaling", run)
