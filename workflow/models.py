"""Every table of trygg, imported in one place so that the metadata (and Alembic) sees them all."""

from workflow.agreement.models import (
    Absence,
    Admin,
    Agreement,
    CouncilMembership,
    Organisation,
    Person,
    PersonRole,
    Signatory,
)
from workflow.audit import AuditEntry
from workflow.cycle.models import Cycle, CycleActivity, CycleStep, Deliverable
from workflow.db import Base
from workflow.engine.models import Heartbeat, Lease
from workflow.links.models import CalendarFeed, UsedToken
from workflow.meetings.models import AgendaItem, Invitee, Meeting, MinutesRevision
from workflow.outbox.models import Mail, Notice
from workflow.plan.models import (
    Activity,
    ActivityEvent,
    ActivityOwner,
    ActivityStatusChange,
    ExtensionRequest,
    Goal,
    PlanVersion,
    PriorityArea,
)

metadata = Base.metadata

__all__ = [
    "ActivityEvent",
    "ActivityOwner",
    "Activity",
    "CycleActivity",
    "Deliverable",
    "ActivityStatusChange",
    "AgendaItem",
    "Agreement",
    "AuditEntry",
    "Absence",
    "Admin",
    "CalendarFeed",
    "ExtensionRequest",
    "UsedToken",
    "Base",
    "CouncilMembership",
    "Cycle",
    "CycleStep",
    "Goal",
    "Heartbeat",
    "Invitee",
    "Lease",
    "Mail",
    "Meeting",
    "MinutesRevision",
    "Notice",
    "Organisation",
    "Person",
    "PersonRole",
    "PlanVersion",
    "PriorityArea",
    "Signatory",
    "metadata",
]
