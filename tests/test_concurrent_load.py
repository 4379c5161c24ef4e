"""Two `trygg load`s of one agreement at once on PostgreSQL (issue 13): they take turns.

The test holds the agreement's load lock itself while it starts two real `trygg load` processes,
waits until both queue behind it, and lets go: so the two loads really run at the same time,
whatever the machine's speed. Each must wait for the other and apply on top of it, never a mix.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from tests.conftest import HARNOSAND, ROOT, trygg
from workflow.audit import AuditEntry
from workflow.db import make_engine, session_factory
from workflow.loading import lock_key
from workflow.plan.models import Activity

pytestmark = pytest.mark.postgres

EDITED = {
    "ung-kontaktuppgifter": "Kontaktuppgifter ska lämnas mellan polis och skola",
    "ung-natmobbning": "Föreläsning för elever och föräldrar.",
}


def agreement_file(tmp_path: Path, agreement_id: str, edit: str | None) -> Path:
    """The Härnösand agreement under its own id; with `edit`, two activities retitled."""
    text_ = HARNOSAND.read_text(encoding="utf-8").replace("id: harnosand-2012-2013", f"id: {agreement_id}", 1)
    for title in EDITED.values() if edit else ():
        text_ = text_.replace(f"activity: {title}", f"activity: {edit} {title}", 1)
    path = tmp_path / f"{agreement_id}-{edit or 'original'}.yaml"
    path.write_text(text_, encoding="utf-8")
    return path


def load_at_once(url: str, agreement_id: str, files: list[Path]) -> list[subprocess.CompletedProcess]:
    """Start a `trygg load` per file while holding the agreement's lock; let go once all wait."""
    env = {**os.environ, "TRYGG_DATABASE_URL": url, "TRYGG_LANGUAGE": "en", "COLUMNS": "200"}
    key = lock_key(agreement_id)
    holder = create_engine(url)
    procs = []
    try:
        with holder.connect() as conn:
            conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": key})
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "tasks.cli", "load", str(f)],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for f in files
            ]
            _wait_for_waiters(conn, key, len(files), procs)
            conn.rollback()  # lets go of the lock: the loads go on, one at a time
        outputs = [p.communicate(timeout=120) for p in procs]
        return [
            subprocess.CompletedProcess(p.args, p.returncode, *out)
            for p, out in zip(procs, outputs, strict=True)
        ]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        holder.dispose()


def _wait_for_waiters(conn, key: int, n: int, procs) -> None:
    """Until `n` transactions queue for the advisory lock `key` (bounded: a guard, not a measurement)."""
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    query = text(
        "select count(*) from pg_locks where locktype = 'advisory' and not granted "
        "and classid = :c and objid = :o and objsubid = 1"
    )
    deadline = time.monotonic() + 120
    while conn.execute(query, {"c": classid, "o": objid}).scalar() < n:
        finished = [p for p in procs if p.poll() is not None]
        assert not finished, [p.communicate() for p in finished]
        assert time.monotonic() < deadline, "the loads never reached the lock"
        time.sleep(0.1)


def titles(url: str, agreement_id: str) -> dict[str, str]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        rows = session.execute(select(Activity.key, Activity.title).where(Activity.key.in_(EDITED)))
        result = dict(rows.all())
    engine.dispose()
    return result


def title_changes(url: str) -> list[tuple[str, str, str]]:
    """(activity, title before, title after) of every audited retitling, in order."""
    engine = make_engine(url)
    with session_factory(engine)() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "activity", AuditEntry.action == "update")
            .order_by(AuditEntry.id)
        ).all()
        changes = [
            (e.entity_key, (e.before or {}).get("title"), (e.after or {}).get("title"))
            for e in entries
            if "title" in (e.after or {})
        ]
    engine.dispose()
    return changes


def test_two_edits_loaded_at_once_end_as_one_applied_on_top_of_the_other(postgres_url, tmp_path):
    agreement_id = f"samtidig-{uuid.uuid4().hex[:8]}"
    env = {"TRYGG_DATABASE_URL": postgres_url}
    assert trygg("db", "upgrade", env=env).returncode == 0
    first = trygg("load", str(agreement_file(tmp_path, agreement_id, None)), env=env)
    assert first.returncode == 0, first.stderr

    edits = [agreement_file(tmp_path, agreement_id, edit) for edit in ("Version-A", "Version-B")]
    results = load_at_once(postgres_url, agreement_id, edits)

    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    final = titles(postgres_url, agreement_id)
    winner = "Version-A" if final["ung-kontaktuppgifter"].startswith("Version-A") else "Version-B"
    loser = "Version-B" if winner == "Version-A" else "Version-A"
    assert final == {key: f"{winner} {title}" for key, title in EDITED.items()}  # never a mix
    # The audit log: the original retitled by one load, then that load's titles by the other.
    changes = title_changes(postgres_url)
    assert sorted(changes[:2]) == sorted((k, t, f"{loser} {t}") for k, t in EDITED.items())
    assert sorted(changes[2:]) == sorted((k, f"{loser} {t}", f"{winner} {t}") for k, t in EDITED.items())


def test_the_same_first_load_twice_at_once_creates_it_once_without_an_error(postgres_url, tmp_path):
    agreement_id = f"samtidig-{uuid.uuid4().hex[:8]}"
    assert trygg("db", "upgrade", env={"TRYGG_DATABASE_URL": postgres_url}).returncode == 0
    file = agreement_file(tmp_path, agreement_id, None)

    results = load_at_once(postgres_url, agreement_id, [file, file])

    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert all("Traceback" not in r.stderr for r in results)
    outcomes = sorted(r.stdout.split(":")[0].strip() for r in results)
    assert outcomes == ["Loaded", "Unchanged"], [r.stdout for r in results]
