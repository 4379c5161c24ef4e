"""The desk's door: every desk route reads its agreement through here, and changes go through `acting`.

Every route calls `desk_agreement(key)` first (404 for an agreement the address does not see, 403
without the coordinator's role), and a change is made by `acting(agreement)`: as the signed-in
person of that agreement, channel web. An administrator without a person there may read, not write.
"""

from __future__ import annotations

from flask import render_template

from web.access import agreement_for, require_access
from web.context import trygg
from web.language import page_language
from workflow import i18n
from workflow.agreement.lifecycle import ArchivedAgreement, require_writable
from workflow.agreement.models import Agreement
from workflow.audit import UnitOfWork, person_actor
from workflow.desk.access import DESK_ROLES
from workflow.i18n import _l


def desk_agreement(key: str) -> Agreement:
    """The agreement of the desk at `key`, once the signed-in address may see its desk."""
    return agreement_for(key, *DESK_ROLES)


class WriteRefused(Exception):
    """A change the signed-in address may not make here (no person in the agreement, archived)."""

    def __init__(self, reason) -> None:
        super().__init__(reason)
        self.reason = reason


def acting(session, agreement: Agreement) -> UnitOfWork:
    """The unit of work of a change on the desk, by the signed-in person of `agreement`."""
    person_id = require_access().person_ids.get(agreement.id)
    if person_id is None:
        raise WriteRefused(
            _l(
                "You may read this agreement's pages, but you are not one of its people: a change must be made by a person of the agreement."
            )
        )
    try:
        require_writable(agreement)  # an archived agreement is kept to be read
    except ArchivedAgreement as exc:
        raise WriteRefused(exc.args[0]) from None
    unit = UnitOfWork(session, trygg().clock, person_actor(person_id), channel="web")
    unit.agreement_id = agreement.id
    return unit


def refused_write(agreement: Agreement, exc: WriteRefused):
    reason = i18n.render(exc.reason, page_language())
    return render_template("desk/refused.html", agreement=agreement, reason=reason), 403
