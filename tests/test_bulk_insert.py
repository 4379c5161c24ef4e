"""Many rows written at once (PostgreSQL's COPY, elsewhere one INSERT) read back as the ORM wrote them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tests.conftest import HARNOSAND, load_file
from workflow.db import bulk_insert, transaction
from workflow.plan.models import Activity, Goal


def test_bulk_rows_keep_their_json_dates_aware_times_and_defaults(sessions):
    load_file(sessions, HARNOSAND)
    due = datetime(2013, 3, 1, 7, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        goal = session.scalars(select(Goal).order_by(Goal.id)).first()
        rows = [
            {
                "agreement_id": goal.agreement_id,
                "goal_id": goal.id,
                "key": f"bulk-{i}",
                "title": f"Aktivitet «{i}»\tmed tab",
                "position": 1000 + i,
                "when_text": "Under 2013",
                "responsible_text": None,
                "timing": {"kind": "deadline", "due": "2013-03-01"},
                "deadline": date(2013, 3, 1),
                "footnotes": ["a", "b\\c"],
                "next_action_at": due + timedelta(hours=i),
            }
            for i in range(3)
        ]
        assert bulk_insert(session, Activity.__table__, rows) == 3
    with sessions() as session:
        made = session.scalars(
            select(Activity).where(Activity.key.like("bulk-%")).order_by(Activity.key)
        ).all()
    assert [a.title for a in made] == [f"Aktivitet «{i}»\tmed tab" for i in range(3)]
    assert [a.next_action_at for a in made] == [due, due + timedelta(hours=1), due + timedelta(hours=2)]
    assert made[0].timing == {"kind": "deadline", "due": "2013-03-01"} and made[0].footnotes == ["a", "b\\c"]
    assert made[0].deadline == date(2013, 3, 1) and made[0].responsible_text is None
    assert made[0].state == "open"  # the column's default, though no row named it
