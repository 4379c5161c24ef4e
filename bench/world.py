"""A benchmark's world: a synthetic agreement loaded the ordinary way, then grown in bulk by SQL.

The agreement, its organisations, people and cycle come from `workflow.synthetic` and the real
loader. The many activities are then made by one INSERT … SELECT per step (generate_series on
PostgreSQL, a recursive CTE on SQLite): a million rows in seconds, not an hour of ORM objects.
Of them, `due` have a next_action_at that has passed at NOW (a deadline reminder on the day);
the rest look again some day within the coming year.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from workflow import migrate
from workflow.agreement.validate import read_agreement
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.loading import load_agreement
from workflow.synthetic import write_synthetic

DAY = date(2013, 3, 15)  # a Friday, a working day
NOW = datetime(2013, 3, 15, 8, 0, tzinfo=ZoneInfo("Europe/Stockholm"))  # the send hour
DUE_AT = NOW - timedelta(minutes=1)
FAR = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class World:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    agreement_id: int
    goals: tuple[int, int]  # first id, count (the loader makes them in one run: consecutive)
    owners: tuple[int, int]  # organisations the bench activities cycle through: first id, count
    items: int = 0  # bench activities made so far
    due_keys: list[str] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name


def open_world(url: str, *, people: int = 40) -> World:
    """Migrate, load a small synthetic agreement, and park its own activities far in the future."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with tempfile.TemporaryDirectory() as folder:
        path = write_synthetic(
            Path(folder) / "bench.yaml", activities=20, people=people, around=DAY, spread_days=30
        )
        with transaction(sessions) as session:
            load_agreement(
                session,
                read_agreement(path),
                clock=FixedClock(datetime(2012, 1, 2, tzinfo=UTC)),
                actor="cli:bench",
            )
    with engine.begin() as conn:
        aid = conn.execute(text("select id from agreements")).scalar_one()
        conn.execute(text("update activities set next_action_at = :far"), {"far": _bind(engine, FAR)})
        goals = _range(conn, "select id from goals where agreement_id = :a", aid)
        owners = _range(
            conn, "select distinct organisation_id from people where agreement_id = :a and is_contact", aid
        )
    return World(url, engine, sessions, aid, goals, owners)


def _range(conn, sql: str, aid: int) -> tuple[int, int]:
    ids = sorted(conn.execute(text(sql), {"a": aid}).scalars())
    assert ids == list(range(ids[0], ids[0] + len(ids))), f"ids not consecutive: {ids[:10]}"
    return ids[0], len(ids)


def _bind(engine: Engine, instant: datetime) -> object:
    """An instant as the UTCDateTime column stores it (naive UTC text on SQLite)."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f") if engine.dialect.name == "sqlite" else utc


def add_recipients(world: World, n: int) -> None:
    """n organisations with one contact person each; later activities are owned one per organisation."""
    with world.engine.begin() as conn:
        kommunen = conn.execute(
            text("select id from organisations where agreement_id = :a and key = 'kommunen'"),
            {"a": world.agreement_id},
        ).scalar_one()
        series, x = _series(world, 1, n)
        conn.execute(
            text(
                f"{series} insert into organisations (agreement_id, key, name, kind, parent_id, aliases, active) "
                f"select :a, 'mottagare-' || {x}, 'Mottagare ' || {x}, 'department', :k, '[]', true from g"
            ),
            {"a": world.agreement_id, "k": kommunen},
        )
        first = conn.execute(
            text("select min(id) from organisations where agreement_id = :a and key like 'mottagare-%'"),
            {"a": world.agreement_id},
        ).scalar_one()
        conn.execute(
            text(
                "insert into people (agreement_id, key, name, email, organisation_id, language, is_contact, active) "
                "select :a, 'm-' || key, 'Person ' || name, 'm' || (id - :first + 1) || '@example.org', id, "
                "case when id % 7 = 0 then 'en' else 'sv' end, true, true "
                "from organisations where agreement_id = :a and key like 'mottagare-%'"
            ),
            {"a": world.agreement_id, "first": first},
        )
    world.owners = (first, n)


def _series(world: World, lo: int, hi: int) -> tuple[str, str]:
    """A row source of the integers lo..hi, and the name of its column."""
    if world.backend == "postgresql":
        return f"with g as (select generate_series({lo}, {hi}) as x)", "g.x"
    return f"with recursive g(x) as (select {lo} union all select x + 1 from g where x < {hi})", "g.x"


def grow(world: World, total: int, *, due: int = 1000) -> float:
    """Make bench activities up to `total`; the first `due` made are due at NOW. Returns seconds."""
    import time

    lo, hi = world.items + 1, total
    if hi < lo:
        return 0.0
    start = time.perf_counter()
    pg = world.backend == "postgresql"
    series, x = _series(world, lo, hi)
    if pg:
        deadline = f"(date '{DAY.isoformat()}' + (case when {x} <= {due} then 0 else 30 + {x} % 365 end))"
        later = f"(timestamptz '{NOW.isoformat()}' + (1 + {x} % 365) * interval '1 day' + ({x} % 480) * interval '1 minute')"
        timing = f"json_build_object('kind', 'deadline', 'due', to_char({deadline}, 'YYYY-MM-DD'))"
        due_at = f"timestamptz '{DUE_AT.isoformat()}'"
    else:
        deadline = f"date('{DAY.isoformat()}', '+' || (case when {x} <= {due} then 0 else 30 + {x} % 365 end) || ' days')"
        base = NOW.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        later = f"(strftime('%Y-%m-%d %H:%M:%S', '{base}', '+' || (1 + {x} % 365) || ' days', '+' || ({x} % 480) || ' minutes') || '.000000')"
        timing = f"json_object('kind', 'deadline', 'due', {deadline})"
        due_at = f"'{_bind(world.engine, DUE_AT)}'"
    goal0, goals = world.goals
    org0, orgs = world.owners
    with world.engine.begin() as conn:
        before = conn.execute(text("select coalesce(max(id), 0) from activities")).scalar_one()
        conn.execute(
            text(
                f"{series} insert into activities (agreement_id, goal_id, key, title, position, when_text, "
                f"responsible_text, timing, deadline, footnotes, state, next_action_at) "
                f"select :a, {goal0} + {x} % {goals}, 'b-' || {x}, 'Aktivitet b-' || {x}, {x}, 'Under 2013', "
                f"'Enhet', {timing}, {deadline}, '[]', 'open', "
                f"case when {x} <= {due} then {due_at} else {later} end from g"
            ),
            {"a": world.agreement_id},
        )
        conn.execute(
            text(
                f"insert into activity_owners (activity_id, organisation_id, role, position) "
                f"select id, {org0} + (position - 1) % {orgs}, 'lead', 0 from activities "
                f"where id > :before and agreement_id = :a"
            ),
            {"before": before, "a": world.agreement_id},
        )
    with world.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("analyze"))
    world.items = total
    world.due_keys = [f"b-{i}" for i in range(1, min(due, total) + 1)]
    return time.perf_counter() - start


def reset_due(world: World) -> None:
    """Undo a sweep: forget its notices and mails, make the due activities due again."""
    with world.engine.begin() as conn:
        conn.execute(text("update notices set mail_id = null"))
        conn.execute(text("delete from mails"))
        conn.execute(text("delete from notices"))
        due = len(world.due_keys)
        conn.execute(
            text(
                f"update activities set next_action_at = :at where agreement_id = :a and key like 'b-%' and position <= {due}"
            ),
            {"at": _bind(world.engine, DUE_AT), "a": world.agreement_id},
        )


def close(world: World) -> None:
    world.engine.dispose()
