"""The desk's activity list: the standing of each activity, filtered by area, owner and status, and exported as CSV or XLSX."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.desk.standing import ActivityStanding, activity_standing
from workflow.i18n import _l, _pl, render

STATUSES = ("overdue", "open", "ongoing", "done")
STATUS_WORDS = {
    "overdue": _pl("activity status", "overdue"),
    "open": _pl("activity status", "open"),
    "ongoing": _pl("activity status", "ongoing"),
    "done": _pl("activity status", "done"),
}
RECIPIENT_WORDS = {
    "owner": _l("the responsible"),
    "coordinator": _l("the coordinator"),
    "management": _l("management"),
}


@dataclass(frozen=True)
class ActivityFilter:
    area: str | None = None  # an area key
    owner: str | None = None  # an organisation key
    status: str | None = None  # one of STATUSES

    def keeps(self, row: ActivityStanding) -> bool:
        return (
            (not self.area or row.area_key == self.area)
            and (not self.owner or self.owner in row.owners)
            and (not self.status or row.status == self.status)
        )


def activity_rows(
    session: Session, agreement: Agreement, now: datetime, wanted: ActivityFilter | None = None
) -> list[ActivityStanding]:
    """The agreement's activities as they stand at `now`, those `wanted` only."""
    rows = activity_standing(session, agreement, now)
    return [row for row in rows if wanted is None or wanted.keeps(row)]


def filter_choices(rows: list[ActivityStanding]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The areas and owners (key, name) that occur, in first-seen order, for the filter's lists."""
    areas: dict[str, str] = {}
    owners: dict[str, str] = {}
    for row in rows:
        areas.setdefault(row.area_key, row.area)
        for key, name in zip(row.owners, row.owner_names, strict=True):
            owners.setdefault(key, name)
    return list(areas.items()), sorted(owners.items(), key=lambda kv: kv[1])


def step_words(step, lang: str) -> str:
    """A ladder step as a reader sees it: 'after 5 working days: the coordinator'."""
    if step is None:
        return ""
    return render(
        _l("after %(n)s working days: %(to)s", n=step.after, to=RECIPIENT_WORDS.get(step.to, step.to)), lang
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
    _l("Days overdue"),
    _l("Ladder step reached"),
    _l("Reached on"),
    _l("Next step"),
    _l("Next step on"),
)


def table(rows: list[ActivityStanding], lang: str) -> tuple[list[str], list[list[object]]]:
    """The export's header and rows in `lang`; dates stay dates (a spreadsheet sorts them)."""
    header = [render(h, lang) for h in HEADERS]
    body: list[list[object]] = []
    for row in rows:
        body.append(
            [
                row.key,
                row.area,
                row.goal,
                row.title,
                ", ".join(row.owner_names) or (row.responsible or ""),
                row.when or "",
                row.deadline,
                render(STATUS_WORDS[row.status], lang),
                row.overdue_days or None,
                step_words(row.reached, lang),
                row.reached.on if row.reached else None,
                step_words(row.next_step, lang),
                row.next_step.on if row.next_step else None,
            ]
        )
    return header, body


def as_csv(rows: list[ActivityStanding], lang: str) -> str:
    """CSV with a BOM and semicolons: Excel in Sweden opens it as columns, with å, ä and ö intact."""
    header, body = table(rows, lang)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for line in body:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in line])
    return "\ufeff" + out.getvalue()


def as_xlsx(rows: list[ActivityStanding], lang: str) -> bytes:
    """A workbook of one sheet: a bold header, real dates (YYYY-MM-DD), the header row frozen."""
    header, body = table(rows, lang)
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
