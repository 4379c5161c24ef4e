"""`trygg export AGREEMENT [--out FILE]`: the agreement as the database has it, as an agreement file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tasks.commands.common import EXIT_STATE, engine, err, require_schema, write_output
from workflow.clock import SystemClock
from workflow.db import session_factory, transaction
from workflow.desk.export import agreement_yaml
from workflow.i18n import _, _l
from workflow.status import UnknownAgreement, resolve_agreement


def export(
    agreement: Annotated[str, typer.Argument(help=_l("the agreement's id"))],
    out: Annotated[
        Path | None, typer.Option("--out", help=_l("write the file here (default: standard output)"))
    ] = None,
) -> None:
    """Write the agreement (parties, people, roles, schedules, plan) as a file that loads to no change."""
    eng = engine()
    require_schema(eng)
    try:
        with transaction(session_factory(eng)) as session:
            target = resolve_agreement(session, agreement)
            now = SystemClock().now()
            text = agreement_yaml(session, target, exported_at=now.date())
    except UnknownAgreement as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(EXIT_STATE) from None
    if out is None:
        sys.stdout.write(text)
        return
    write_output(out, text, "--out")
    err.print(_("Written: %(path)s", path=out), highlight=False)
