"""What every write on the desk needs first: the agreement seen with the coordinator's role, and the person acting.

A change on the web is made by the signed-in address's person in THAT agreement; an administrator
without a person there may read the desk but not change it (403, saying why). An archived
agreement is read-only.
"""

from __future__ import annotations

from flask import abort, make_response, render_template

from web.access import agreement_for, require_access
from web.context import db, trygg
from workflow.agreement.models import Agreement
from workflow.audit import UnitOfWork, person_actor
from workflow.desk.access import DESK_ROLES
from workflow.i18n import _l


def desk_agreement(key: str) -> Agreement:
    """The agreement of a desk page (404 when not seen, 403 without the coordinator's role)."""
    return agreement_for(key, *DESK_ROLES)


def acting_unit(agreement: Agreement) -> UnitOfWork:
    """The unit of work of a change by the signed-in person in `agreement` (channel web), or 403 with why."""
    person_id = require_access().person_ids.get(agreement.id)
    if agreement.archived_at is not None:
        abort(_refused(_l("The agreement is archived: it can be read, not changed.")))
    if person_id is None:
        abort(_refused(_l("You may read this agreement but not change it: you are not one of its people.")))
    unit = UnitOfWork(db(), trygg().clock, person_actor(person_id), channel="web")
    unit.agreement_id = agreement.id
    return unit


def _refused(why):
    return make_response(render_template("desk/refused.html", why=why), 403)
