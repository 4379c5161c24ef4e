"""Fixtures of the end-to-end and fault tests: throwaway servers that always stop, and the results table.

Run them alone with `make e2e`; `make test` runs them with the rest. Without the Debian tools
they need (PostgreSQL server binaries, redis-server, faketime) they skip, except under CI=true.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.e2e import results
from tests.e2e.servers import FakeClock, PostgresServer, RedisServer, SmtpSink, missing_tools
from tests.e2e.topology import Topology


def pytest_collection_modifyitems(items) -> None:
    # Under xdist one worker runs them one after the other (tests/xdist_groups.py).
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


def require_tools() -> None:
    missing = missing_tools()
    if not missing:
        return
    message = "the e2e tests need " + ", ".join(missing)
    if IN_CI:
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL cluster for the session (each test gets a database of its own)."""
    require_tools()
    server = PostgresServer()
    try:
        server.init()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def topology(pg_server, tmp_path):
    """Make a topology: `topology(start=…, delay=…)`; its processes and servers always stop."""
    made: list = []

    def make(*, start, delay: float = 0.0) -> Topology:
        redis = RedisServer()
        made.append(redis.destroy)
        redis.start()
        sink = SmtpSink(delay=delay)
        made.append(sink.stop)
        sink.start()
        clock = FakeClock(start)
        made.append(clock.destroy)
        topo = Topology(
            pg=pg_server,
            database=f"e2e_{uuid.uuid4().hex[:10]}",
            redis=redis,
            sink=sink,
            clock=clock,
            workdir=tmp_path,
        )
        made.append(topo.close)
        return topo

    yield make
    errors = []
    for stop in reversed(made):
        try:
            stop()
        except Exception as exc:  # stop the rest all the same
            errors.append(exc)
    if not pg_server.running:  # a fault test that failed half-way leaves it started again
        pg_server.start()
    if errors:
        raise errors[0]


@dataclass
class Row:
    fault: str
    mails: int
    lost: int
    duplicates: int
    in_flight: int
    recovery_s: float  # wall-clock seconds from the fault to the last mail delivered
    engine_clock_s: float  # the same on the engine's clock (includes moving past a dead claim's lease)
    test: str


@pytest.fixture
def record(request):
    """Write a row of the reliability table (docs/reliability.md) for this test."""

    def write(**values) -> None:
        results.write(asdict(Row(test=request.node.nodeid.split("::")[-1], **values)))

    return write
