"""Tables of an agreement: the parties and other organisations, people, roles and the council."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base


class OrganisationKind(StrEnum):
    PARTY = "party"  # signs the agreement: the police area, the municipality
    DEPARTMENT = "department"  # part of a party: skola, socialtjänst, räddningstjänst, …
    EXTERNAL = "external"  # outside actor: handeln, frivården, föreningar, …


class Role(StrEnum):
    OFFICER = "officer"  # responsible for activities: gets reminders
    COORDINATOR = "coordinator"  # configures the cycle, gets second-step escalations
    MANAGEMENT = "management"  # närpolischef, kommunstyrelsens ordförande: escalations, report
    COUNCIL_MEMBER = "council_member"
    COUNCIL_SECRETARY = "council_secretary"  # writes the minutes


class Body(StrEnum):
    COUNCIL = "council"  # Rådet för trygghet och hälsa
    REFERENCE_GROUP = "reference_group"  # its reference group (drew up the problem picture)


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    subtitle: Mapped[str | None] = mapped_column(String(500))
    signed_on: Mapped[date | None] = mapped_column(Date)
    signed_place: Mapped[str | None] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # Days after period_end during which the last follow-up is still chased (period.grace_days).
    grace_days: Mapped[int] = mapped_column(Integer, default=30)
    # Archived: kept and readable, never written again nor swept (`trygg agreement archive`).
    archived_at: Mapped[datetime | None]
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    council_name: Mapped[str] = mapped_column(String(300))
    reference_group_name: Mapped[str | None] = mapped_column(String(300))
    convened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", use_alter=True, ondelete="SET NULL")
    )
    # The cycle's configuration (steps, meeting cadence, check-ins, review, evaluation) as
    # validated by workflow.agreement.schema: read by the cycle, never edited in place.
    cycle_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    # School terms and where deadlines on days off go (workflow.agreement.schema.CalendarSpec).
    calendar_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Reminder stages, send hour, quiet weeks, escalation ladder (schema.RemindersSpec).
    reminders_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    # When meetings are convened and minutes chased (schema.MeetingsSpec); {} means the defaults.
    meetings_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Signed links in mails (schema.LinksSpec: expiry_days); {} means the defaults.
    links_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    preamble: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(String(1000))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    loaded_at: Mapped[datetime]

    organisations: Mapped[list[Organisation]] = relationship(
        back_populates="agreement",
        foreign_keys="Organisation.agreement_id",
        cascade="all, delete-orphan",
    )
    people: Mapped[list[Person]] = relationship(back_populates="agreement", cascade="all, delete-orphan")


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("agreement_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Words of the plan's Ansvarig column that mean this organisation ("Polis", "polisen", …).
    aliases: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agreement: Mapped[Agreement] = relationship(back_populates="organisations", foreign_keys=[agreement_id])
    parent: Mapped[Organisation | None] = relationship(remote_side=[id])
    people: Mapped[list[Person]] = relationship(back_populates="organisation")


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("agreement_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    title: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="sv")
    # The organisation's contact for activities it is responsible for (gets the reminders).
    is_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A guest co-opted to a meeting (`trygg meeting coopt --name …`), not in the agreement
    # file: reloading the file leaves guests alone instead of retiring them.
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    agreement: Mapped[Agreement] = relationship(back_populates="people")
    organisation: Mapped[Organisation] = relationship(back_populates="people")
    roles: Mapped[list[PersonRole]] = relationship(back_populates="person", cascade="all, delete-orphan")

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)


# Every signed-in page, the sign-in and the outbox's recipients look a person up by address, in any
# case: without this a national deployment's every page read all its people.
Index("ix_people_email_lower", func.lower(Person.email))


class PersonRole(Base):
    __tablename__ = "person_roles"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))

    person: Mapped[Person] = relationship(back_populates="roles")


class Signatory(Base):
    __tablename__ = "signatories"
    __table_args__ = (UniqueConstraint("agreement_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(200))

    person: Mapped[Person] = relationship()
    party: Mapped[Organisation] = relationship()


class CouncilMembership(Base):
    __tablename__ = "council_memberships"
    __table_args__ = (UniqueConstraint("agreement_id", "body", "person_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(String(30))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    mandate: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship()


class Admin(Base):
    """A deployment administrator (`trygg admin add EMAIL`): sees every agreement of the deployment."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(200))  # an actor: cli:<user>, person:<id>


class Absence(Base):
    """A person is away from–to (inclusive); meanwhile their mails go to the deputy, *på uppdrag av*."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    deputy: Mapped[Person] = relationship(foreign_keys=[deputy_id])
