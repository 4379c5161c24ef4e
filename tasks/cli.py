"""The `trygg` command line: check, load and show agreements, and manage the database."""

from __future__ import annotations

import getpass
import json
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from workflow import migrate
from workflow.agreement.load import load_agreement
from workflow.agreement.validate import AgreementFile, read_agreement
from workflow.clock import SystemClock
from workflow.db import make_engine, session_factory, transaction
from workflow.plan.importing import default_year, import_plan, read_plan_import
from workflow.resources import find_agreement_file, shipped_agreements
from workflow.settings import get_settings
from workflow.source import InputError
from workflow.status import UnknownAgreement, resolve_agreement, status

app = typer.Typer(
    help="trygg: samverkan kommun–polis i brottsförebyggande arbete / crime-prevention workflow",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Databasen / the database", no_args_is_help=True)
app.add_typer(db_app, name="db")
plan_app = typer.Typer(help="Handlingsplanen / the action plan", no_args_is_help=True)
app.add_typer(plan_app, name="plan")

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="skriv ren JSON / print plain JSON")]
AgreementOpt = Annotated[
    str | None,
    typer.Option("--agreement", help="överenskommelsens id (kan utelämnas när bara en är inläst)"),
]
FileArg = Annotated[
    Path,
    typer.Argument(
        help="överenskommelsens YAML-fil, eller namnet på ett medföljande exempel "
        "(se `trygg examples`) / the agreement file, or a shipped example's name"
    ),
]

EXIT_INPUT = 2  # the file was refused: nothing was written
EXIT_STATE = 3  # the database is not ready, or the agreement is unknown


def t(sv: str, en: str) -> str:
    """Swedish first; English with TRYGG_LANGUAGE=en."""
    return en if get_settings().language == "en" else sv


def print_json(data: Any) -> None:
    # Plain stdout, not rich: rich wraps long lines and would break the JSON.
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def actor() -> str:
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


def engine() -> Engine:
    return make_engine(get_settings().database_url)


def require_schema(eng: Engine) -> None:
    current, head = migrate.current_revision(eng), migrate.head_revision()
    if current != head:
        err.print(
            t(
                f"[red]Databasen har inte aktuellt schema ({current or 'tom'} ≠ {head}).[/] "
                "Kör [bold]trygg db upgrade[/].",
                f"[red]The database schema is not current ({current or 'empty'} ≠ {head}).[/] "
                "Run [bold]trygg db upgrade[/].",
            )
        )
        raise typer.Exit(EXIT_STATE)


def report_problems(exc: InputError, as_json: bool) -> None:
    if as_json:
        print_json({"ok": False, "errors": [p.as_json() for p in exc.problems]})
    else:
        for problem in exc.problems:
            err.print(f"[red]fel:[/] {problem}", markup=True, highlight=False, soft_wrap=True)
        err.print(
            t(
                f"{len(exc.problems)} fel; ingenting har skrivits.",
                f"{len(exc.problems)} error(s); nothing was written.",
            )
        )


def read_or_exit(file: Path, as_json: bool) -> AgreementFile:
    """The validated agreement file, or its problems reported and exit 2."""
    try:
        return read_agreement(find_agreement_file(file))
    except InputError as exc:
        report_problems(exc, as_json)
        raise typer.Exit(EXIT_INPUT) from None


@app.command()
def check(file: FileArg, as_json: JsonFlag = False) -> None:
    """Validera en överenskommelse utan att skriva något / validate, write nothing."""
    af = read_or_exit(file, as_json)
    summary = {
        "ok": True,
        "agreement": af.spec.id,
        "areas": len(af.spec.plan.areas),
        "activities": len(af.activities),
        "people": len(af.spec.people),
        "organisations": len(af.spec.organisations),
        "errors": [],
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        t(
            f"[green]OK[/] {file}: {af.spec.id} — {summary['areas']} prioriterade områden, "
            f"{summary['activities']} aktiviteter, {summary['people']} personer.",
            f"[green]OK[/] {file}: {af.spec.id} — {summary['areas']} priority areas, "
            f"{summary['activities']} activities, {summary['people']} people.",
        ),
        highlight=False,
    )


@app.command()
def load(file: FileArg, as_json: JsonFlag = False) -> None:
    """Läs in (eller uppdatera) en överenskommelse i en transaktion / load or update, atomically."""
    af = read_or_exit(file, as_json)
    eng = engine()
    require_schema(eng)
    with transaction(session_factory(eng)) as session:
        result = load_agreement(session, af, clock=SystemClock(), actor=actor())
    if as_json:
        print_json(
            {
                "agreement": result.agreement_key,
                "created": result.created,
                "plan_revision": result.plan_revision,
                "changes": [{"action": a, "entity": e, "key": k} for a, e, k in result.changes],
            }
        )
        return
    if result.created:
        console.print(t(f"Inläst: {result.agreement_key}", f"Loaded: {result.agreement_key}"))
    elif result.changed:
        console.print(
            t(
                f"Uppdaterad: {result.agreement_key} ({len(result.changes)} ändringar, se granskningsloggen)",
                f"Updated: {result.agreement_key} ({len(result.changes)} changes, see the audit log)",
            )
        )
        for action, entity, key in result.changes:
            console.print(f"  {action:8} {entity:20} {key}", highlight=False)
    else:
        console.print(t(f"Oförändrad: {result.agreement_key}", f"Unchanged: {result.agreement_key}"))


STATE_SV = {
    "open": "ej påbörjad",
    "in_progress": "pågår",
    "done": "klar",
    "cancelled": "avbruten",
    "withdrawn": "utgått",
}


@app.command("status")
def status_command(agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Läget per prioriterat område / status per priority area: activities, owners, deadlines."""
    eng = engine()
    require_schema(eng)
    try:
        with transaction(session_factory(eng)) as session:
            data = status(session, agreement)
    except UnknownAgreement as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_STATE) from None
    if as_json:
        print_json(data)
        return
    if not data["agreements"]:
        console.print(t("Ingen överenskommelse är inläst.", "No agreement is loaded."))
    for agr in data["agreements"]:
        total = sum(len(a["activities"]) for a in agr["areas"])
        console.rule(f"[bold]{agr['title']}[/] ({agr['id']})")
        console.print(
            t(
                f"Period {agr['period']['start']} – {agr['period']['end']}: "
                f"{len(agr['areas'])} prioriterade områden, {total} aktiviteter",
                f"Period {agr['period']['start']} – {agr['period']['end']}: "
                f"{len(agr['areas'])} priority areas, {total} activities",
            )
        )
        for area in agr["areas"]:
            table = Table(title=f"{area['title']}", title_justify="left", expand=True)
            table.add_column(t("Aktivitet", "Activity"), ratio=4)
            table.add_column(t("Ansvarig", "Responsible"), ratio=3)
            table.add_column(t("När", "When"), ratio=2)
            table.add_column(t("Deadline", "Deadline"), no_wrap=True)
            table.add_column(t("Läge", "State"), no_wrap=True)
            for act in area["activities"]:
                owners = ", ".join(o["name"] for o in act["owners"])
                if act["partners"]:
                    owners += t(" med ", " with ") + ", ".join(p["name"] for p in act["partners"])
                state = act["state"]
                table.add_row(
                    act["title"],
                    owners,
                    act["when"] or "",
                    act["deadline"] or "—",
                    t(STATE_SV.get(state, state), state),
                )
            console.print(table)


@plan_app.command("import")
def plan_import(
    file: Annotated[Path, typer.Argument(help="planen: text kopierad ur Word, CSV eller XLSX")],
    agreement: AgreementOpt = None,
    year: Annotated[int | None, typer.Option("--year", help="verksamhetsåret planen gäller")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="visa vad som skulle ändras, skriv inget")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Läs in en reviderad handlingsplan / import the year's revised action plan."""
    eng = engine()
    require_schema(eng)
    clock = SystemClock()
    rows: list[dict] = []
    with session_factory(eng)() as session:
        try:
            target = resolve_agreement(session, agreement)
            agreement_key = target.key
            chosen_year = year if year is not None else default_year(target, clock)
            checked = read_plan_import(session, target, file, chosen_year)
            rows = checked.as_json()
            result = import_plan(session, checked, clock=clock, actor=actor())
            # A dry run goes all the way, so that it shows the real changes, then undoes them.
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except UnknownAgreement as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(EXIT_STATE) from None
        except InputError as exc:
            session.rollback()
            if as_json:
                print_json({"activities": rows, "errors": [p.as_json() for p in exc.problems]})
            else:
                report_problems(exc, as_json=False)
            raise typer.Exit(EXIT_INPUT) from None
    changes = [{"action": a, "entity": e, "key": k} for a, e, k in result.changes]
    if as_json:
        print_json(
            {
                "agreement": agreement_key,
                "year": chosen_year,
                "dry_run": dry_run,
                "plan_revision": result.plan_revision,
                "activities": rows,
                "errors": [],
                "changes": changes,
            }
        )
        return
    table = Table(title=t(f"Handlingsplan {chosen_year}", f"Action plan {chosen_year}"), expand=True)
    for column in (t("Rad", "Line"), "Id", t("Aktivitet", "Activity"), t("Ansvarig", "Responsible"), t("Senast", "Due")):
        table.add_column(column)
    for row in rows:
        owners = ", ".join(row["owners"]) + (" + " + ", ".join(row["partners"]) if row["partners"] else "")
        table.add_row(str(row["line"]), row["id"], row["activity"], owners, row["deadline"] or "—")
    console.print(table)
    verb = t("skulle ändra", "would change") if dry_run else t("ändrade", "changed")
    console.print(f"{len(rows)} {t('aktiviteter', 'activities')}; {verb} {len(changes)}:", highlight=False)
    for change in changes:
        console.print(f"  {change['action']:8} {change['entity']:15} {change['key']}", highlight=False)


@app.command()
def examples() -> None:
    """Medföljande exempelöverenskommelser / the example agreements shipped with trygg."""
    for name, path in shipped_agreements().items():
        console.print(f"{name}\t{path}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Skapa eller uppgradera databasens schema / create or upgrade the schema."""
    eng = engine()
    migrate.upgrade(eng, revision)
    url = get_settings().redacted()["database_url"]
    console.print(
        t(
            f"Databasen {url} har schema {migrate.current_revision(eng)}.",
            f"Database {url} is at schema {migrate.current_revision(eng)}.",
        ),
        highlight=False,
    )


@db_app.command("current")
def db_current() -> None:
    """Visa databasens schemaversion / show the schema revision."""
    eng = engine()
    console.print(f"{migrate.current_revision(eng) or '-'} (head {migrate.head_revision()})")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
