"""Tables of the links: used tokens (a link that changes something works once) and calendar feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base


class UsedToken(Base):
    """A link that was used: opening it again shows what it did, by whom and when."""

    __tablename__ = "used_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime]
    # What it did, for the page shown when the link is opened again (e.g. {"state": "done"}).
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)


class CalendarFeed(Base):
    """A person's secret webcal address: their deadlines and meetings. Revoked and replaced on demand."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # No secret is stored: the address carries this row's id signed with TRYGG_SECRET_KEY
    # (workflow.links.tokens.LinkSigner.feed_token), so /me can show it again at any time.
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
