"""Latency: due → accepted at the SMTP sink, with N mails due in the same minute (section 4).

The same run as the delivery benchmark (bench.delivery): every mail is due at the tick; its
latency is the sink's acceptance time minus the instant the tick sent `trygg.sweep`.
"""

from __future__ import annotations

import time

from bench.common import Section, command, main_for, percentile, secs, table
from bench.delivery import WORKERS, measured

TARGET = 60.0


def run(size: str = "full") -> Section:
    start = time.perf_counter()
    m = measured(size)
    lat = m["trygg"]["latencies"]
    p50, p99, worst = percentile(lat, 50), percentile(lat, 99), max(lat)
    body = "\n\n".join(
        [
            f"The same run as section 2 (under `python -m bench` it runs once for both). "
            f"{len(lat):,} mails due at the same instant (08:00), {WORKERS} workers, measured from the tick that "
            "found them due (the harness sends `trygg.sweep` as `trygg scheduler` does) to each mail's "
            "acceptance by the SMTP sink.",
            table(
                ["p50", "p99", "max", "first mail"],
                [[secs(p50), f"**{secs(p99)}**", secs(worst), secs(min(lat))]],
            ),
            "`trygg scheduler` ticks on whole multiples of its interval on the wall clock (on :00 of every "
            "minute by default), so a mail due at 08:00 is swept at the 08:00:00 tick: these figures are "
            "from the due instant too.",
        ]
    )
    figures = {"p50": p50, "p99": p99, "max": worst, "met": p99 <= TARGET}
    return Section(4, "Latency", command("latency", size), body, time.perf_counter() - start, figures)


if __name__ == "__main__":
    main_for("latency", run)
