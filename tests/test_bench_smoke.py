"""Every benchmark of bench/ runs at its tiny size, so that `make bench` keeps working. No timing is asserted."""

from __future__ import annotations

import pytest

from tests.conftest import REDIS_URL, require_postgres, require_redis

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _servers(monkeypatch):
    require_postgres()
    require_redis()
    # The benchmarks' own Redis database: never the tests' (13) nor 0.
    monkeypatch.setenv("TRYGG_BENCH_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + "/11")


def test_sweep_scaling_runs_and_reads_due_rows_by_the_index():
    from bench import sweep_scaling

    section = sweep_scaling.run("tiny")
    assert "ix_activities_next_action_at" in section.body
    assert set(section.figures) == {"sqlite", "postgresql"}


def test_delivery_and_latency_run_and_every_mail_reaches_the_sink():
    from bench import delivery, latency

    section = delivery.run("tiny")
    m = delivery.measured("tiny")
    assert m["trygg"]["n"] == m["baseline"]["n"] == delivery.MAILS["tiny"]
    assert section.figures["ratio"] > 0
    assert latency.run("tiny").figures["p99"] > 0


def test_the_usual_approach_runs_and_each_side_fires_its_due_reminders():
    from bench import usual

    section = usual.run("tiny")
    assert section.figures["trygg_schedule"] > 0
    assert "APScheduler" in section.body and "Celery" in section.body


def test_the_simulation_section_runs_or_says_it_is_not_available(tmp_path):
    from bench import simulation

    section = simulation.run("tiny")
    assert section.number == 5 and "trygg simulate" in section.command


def test_python_m_bench_writes_the_whole_file(tmp_path, monkeypatch):
    import sys

    from bench import __main__ as bench_main

    out = tmp_path / "benchmarks.md"
    monkeypatch.setattr(sys, "argv", ["bench", "--size", "tiny", "--out", str(out)])
    bench_main.main()
    text = out.read_text()
    for heading in (
        "## 1. Sweep scaling",
        "## 2. Delivery throughput",
        "## 3. The usual approach",
        "## 4. Latency",
        "## 5. Simulation",
        "## Targets",
    ):
        assert heading in text
    assert "cores" in text and "GiB" in text
