"""What the officers' mails say, taken on the day they leave: the event that triggered a duty,
the working days left (a catch-up reminder does not repeat its stage's count), the first name."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.answers_support import unit_at
from workflow.agreement.models import Agreement
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.links.tokens import LinkSigner
from workflow.links.urls import LinkSettings
from workflow.outbox.delivery import prepare
from workflow.outbox.models import Mail, Notice
from workflow.outbox.reading import first_name, on_the_day
from workflow.work import trigger
from workflow.workdays import WorkCalendar

LINKS = LinkSettings("https://trygg.example.org", LinkSigner("k1-test-secret-" * 4))


def test_a_greeting_uses_the_first_name():
    assert first_name("Anna Sjöberg") == "Anna"
    assert first_name("Cher") == "Cher"


def test_working_days_are_counted_on_the_day_the_mail_leaves_with_the_christmas_holidays():
    cal = WorkCalendar("Europe/Stockholm")
    item = {"rule": "reminder", "due": "2012-12-28", "stage": 10}
    # 17 December: the stage was 10, yet Christmas Eve, Christmas Day and Boxing Day leave 6.
    assert on_the_day(item, cal, date(2012, 12, 17))["days_left"] == 6
    late = {"rule": "escalation", "due": "2012-11-30", "after": 10}
    assert on_the_day(late, cal, date(2012, 12, 17))["days_late"] == 11


def test_an_event_triggered_reminder_names_the_event(loaded):
    with transaction(loaded) as session:
        agreement = session.scalar(select(Agreement))
        unit = unit_at(session, datetime(2012, 3, 5, 9, 0, tzinfo=UTC))
        trigger(unit, agreement, "tra-planer", date(2012, 3, 5), "Remiss om detaljplan för Nattviken")
    sweep(loaded, datetime(2012, 3, 6, 7, 0, tzinfo=UTC))
    with transaction(loaded) as session:
        notice = session.scalars(
            select(Notice).where(Notice.rule == "reminder", Notice.occurrence.like("%:event:%"))
        ).first()
        assert notice is not None and notice.payload["event"]["note"] == "Remiss om detaljplan för Nattviken"
        mail = session.get(Mail, notice.mail_id)
        letter = prepare(session, mail.id, datetime(2012, 3, 6, 7, 0, tzinfo=UTC), "trygg@example.org", LINKS)
    assert "”Remiss om detaljplan för Nattviken” (5 mars 2012)" in letter.rendered.text
    assert letter.rendered.text.startswith("Hej ")
    assert "Remiss om detaljplan för Nattviken" in letter.rendered.html
