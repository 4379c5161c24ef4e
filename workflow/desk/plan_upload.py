"""The revised plan from the desk: an uploaded file kept server-side, its diff by a rolled-back import, then the import.

The file lives under the deployment's upload folder by a random id; only that id travels (in the
signed session of the person who uploaded it), so the confirm imports exactly the bytes that were
previewed, and no client can name another file. The preview and the import are the same code as
`trygg plan import` (`workflow.loading.import_plan`), with its `--allow-withdraw` and
`--keep-unreadable` choices (the rule of the latter is the plan import's own:
`workflow.plan.importing.read_plan_import`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.audit import LoadResult
from workflow.clock import Clock
from workflow.desk.plan_diff import Change, diff, snapshot
from workflow.i18n import _l
from workflow.loading import import_plan, lock_agreement
from workflow.plan.importing import WithdrawalRefused, read_plan_import
from workflow.source import InputError, Problem

SUFFIXES = (".txt", ".csv", ".xlsx")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class UploadRefused(ValueError):
    """A file that is not a plan file the desk reads (its message says why)."""


@dataclass
class PlanPreview:
    """What importing the file would do: the diff, what stops it, and what needs a choice."""

    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    needs_allow_withdraw: Problem | None = None
    unreadable: list[Problem] = field(default_factory=list)  # rows kept without timing (keep_unreadable)
    revision: int | None = None

    @property
    def importable(self) -> bool:
        return not self.problems


def store_upload(folder: Path, filename: str, data: bytes) -> str:
    """Keep an uploaded plan file; returns its random id (the only thing the browser holds)."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadRefused(_l("give the plan as a .txt (copied from Word), .csv or .xlsx file"))
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(_l("the file is larger than %(mb)s MB", mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
    folder.mkdir(parents=True, exist_ok=True)
    upload_id = secrets.token_urlsafe(18) + suffix.replace(".", "_")
    (folder / upload_id).mkdir()
    (folder / upload_id / f"plan{suffix}").write_bytes(data)
    return upload_id


def upload_path(folder: Path, upload_id: str) -> Path | None:
    """The kept file of an id, or None (an id is only ever one we made: no path in it)."""
    if not upload_id or not set(upload_id) <= _ID_CHARS:
        return None
    files = list((folder / upload_id).glob("plan.*")) if (folder / upload_id).is_dir() else []
    return files[0] if files else None


def preview(
    session: Session,
    agreement: Agreement,
    path: Path,
    year: int,
    *,
    clock: Clock,
    actor: str,
    allow_withdraw: bool = False,
    keep_unreadable: bool = False,
) -> PlanPreview:
    """The import run for real and rolled back: the diff of the plan before and after."""
    if session.in_transaction():
        session.rollback()
    session.begin()
    try:
        return _run(session, agreement, path, year, clock, actor, allow_withdraw, keep_unreadable)
    finally:
        session.rollback()


def confirm(
    session: Session,
    agreement: Agreement,
    path: Path,
    year: int,
    *,
    clock: Clock,
    actor: str,
    allow_withdraw: bool,
    keep_unreadable: bool,
) -> PlanPreview:
    """Import the file as the year's plan version, in the caller's transaction (refused: nothing written)."""
    outcome = _run(session, agreement, path, year, clock, actor, allow_withdraw, keep_unreadable)
    if not outcome.importable or outcome.needs_allow_withdraw is not None:
        raise InputError(outcome.problems or [outcome.needs_allow_withdraw])
    return outcome


def _run(session, agreement, path, year, clock, actor, allow_withdraw, keep_unreadable) -> PlanPreview:
    lock_agreement(session, agreement.key)
    before = snapshot(session, agreement.id)
    out = PlanPreview()
    try:
        checked = read_plan_import(session, agreement, path, year, keep_unreadable=keep_unreadable)
    except InputError as exc:  # the file itself cannot be read
        out.problems = list(exc.problems)
        return out
    out.unreadable = list(checked.warnings)
    if checked.problems:
        out.problems = list(checked.problems)
        return out
    try:
        result: LoadResult = import_plan(
            session, checked, clock=clock, actor=actor, allow_withdraw=allow_withdraw
        )
        out.revision = result.plan_revision
    except WithdrawalRefused as exc:
        out.needs_allow_withdraw = exc.problems[0]
    session.flush()
    out.changes = diff(before, snapshot(session, agreement.id))
    return out
