"""What every benchmark shares: sizes, the machine, databases of their own, timing and the report's shape."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "TRYGG_BENCH_POSTGRES_URL",
    os.environ.get("TRYGG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
# Database 11: never 0 (someone's data) nor 13 (the tests'); only this database is emptied.
REDIS_URL = os.environ.get("TRYGG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
SIZES = ("tiny", "full")


@dataclass
class Section:
    """One section of docs/benchmarks.md: its figures as markdown, and the command that made them."""

    number: int
    title: str
    command: str
    body: str = ""
    seconds: float = 0.0
    figures: dict = field(default_factory=dict)  # the headline numbers, for the summary


def command(module: str, size: str) -> str:
    return f"python -m bench.{module}" + ("" if size == "full" else f" --size {size}")


def machine() -> str:
    """Cores, memory, CPU model, and the versions that matter; the date is the run's."""
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:  # psutil is a dev dependency; say so instead of failing
        memory = "unknown (psutil missing)"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} memory, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def require_redis_db(url: str) -> None:
    """Refuse database 0 and 13 (the tests'): the benchmarks empty the database they use."""
    db = url.rsplit("/", 1)[-1] if url.count("/") >= 3 else "0"
    if db in ("", "0", "13"):
        raise SystemExit(f"TRYGG_BENCH_REDIS_URL={url}: use a database other than 0 and 13 (e.g. /11)")


@contextmanager
def database(backend: str) -> Iterator[str]:
    """An empty database of the benchmark's own: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="trygg-bench-"))
        try:
            yield f"sqlite:///{folder / 'bench.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:,.2f} s"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB"


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def parse_size(argv: list[str] | None = None) -> str:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=SIZES, default="full")
    return parser.parse_args(argv).size


def main_for(module: str, run) -> None:
    """`python -m bench.<module> [--size tiny|full]`: run one benchmark and print its section."""
    size = parse_size(sys.argv[1:])
    section = run(size)
    print(f"## {section.number}. {section.title}\n\nCommand: `{section.command}`\n\n{section.body}")


def shell_quote(args: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)
