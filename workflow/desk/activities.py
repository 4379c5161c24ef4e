"""The desk's activity list: each activity's standing (workflow.desk.standing), filtered by area, owner and status; CSV and XLSX."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement, Organisation
from workflow.desk.standing import (
    AUDIENCE_WORDS,
    STATUS_WORDS,
    STATUSES,
    LadderStep,
    Standing,
    activity_standing,
)
from workflow.i18n import _l, _nl, render

__all__ = ["STATUSES", "STATUS_WORDS", "ActivityFilter", "activity_rows", "as_csv", "as_xlsx", "step_words"]


@dataclass(frozen=True)
class ActivityFilter:
    area: str | None = None  # an area key
    owner: str | None = None  # an organisation key (lead or partner)
    status: str | None = None  # one of STATUSES

    def keeps(self, row: Standing) -> bool:
        return (
            (not self.area or row.area_key == self.area)
            and (not self.owner or self.owner in row.owner_keys)
            and (not self.status or row.status == self.status)
        )


def activity_rows(
    session: Session, agreement: Agreement, now: datetime, wanted: ActivityFilter | None = None
) -> list[Standing]:
    """The agreement's activities as they stand at `now`, those `wanted` only."""
    rows = activity_standing(session, agreement, now)
    return [row for row in rows if wanted is None or wanted.keeps(row)]


def filter_choices(
    session: Session, agreement: Agreement, rows: list[Standing]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The areas (plan order) and the organisations owning an activity (by name), as (key, name)."""
    areas: dict[str, str] = {}
    for row in rows:
        areas.setdefault(row.area_key, row.area)
    keys = {key for row in rows for key in row.owner_keys}
    names = session.execute(
        select(Organisation.key, Organisation.name)
        .where(Organisation.agreement_id == agreement.id, Organisation.key.in_(keys))
        .order_by(Organisation.name)
    ).all()
    return list(areas.items()), [(key, name) for key, name in names]


def step_words(step: LadderStep | None, lang: str) -> str:
    """A ladder step as a reader sees it: 'after 5 working days: coordinator'."""
    if step is None:
        return ""
    to = render(AUDIENCE_WORDS.get(step.to, step.to), lang)
    return render(
        _nl("after %(n)s working day: %(to)s", "after %(n)s working days: %(to)s", step.after, to=to),
        lang,
    )


HEADERS = (
    _l("Id"),
    _l("Area"),
    _l("Goal"),
    _l("Activity"),
    _l("Responsible"),
    _l("When"),
    _l("Due date"),
    _l("Status"),
    _l("Overdue since"),
    _l("Ladder step reached"),
    _l("Reached on"),
    _l("Next step"),
    _l("Next step on"),
)


def table(rows: list[Standing], lang: str, zone: ZoneInfo) -> tuple[list[str], list[list[object]]]:
    """The export's header and rows in `lang`; dates stay dates (a spreadsheet sorts them)."""

    def day(step: LadderStep | None) -> date | None:
        return step.at.astimezone(zone).date() if step else None

    header = [render(h, lang) for h in HEADERS]
    body: list[list[object]] = [
        [
            row.key,
            row.area,
            row.goal,
            row.title,
            ", ".join(row.owners + row.partners),
            row.when or "",
            row.deadline,
            render(STATUS_WORDS[row.status], lang),
            row.overdue_since,
            step_words(row.stage, lang),
            day(row.stage),
            step_words(row.next_step, lang),
            day(row.next_step),
        ]
        for row in rows
    ]
    return header, body


def as_csv(rows: list[Standing], lang: str, zone: ZoneInfo) -> str:
    """CSV with a BOM and semicolons: Excel in Sweden opens it as columns, with å, ä and ö intact."""
    header, body = table(rows, lang, zone)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for line in body:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in line])
    return "\ufeff" + out.getvalue()


def as_xlsx(rows: list[Standing], lang: str, zone: ZoneInfo) -> bytes:
    """A workbook of one sheet: a bold header, real dates (YYYY-MM-DD), the header row frozen."""
    header, body = table(rows, lang, zone)
    book = Workbook()
    sheet = book.active
    sheet.title = render(_l("Activities"), lang)[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append(line)
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, date | datetime):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
