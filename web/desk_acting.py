"""The desk's door (`web.desk.door`) for the routes of part 2: a refused write ends the request with the door's page.

The rule (who may write, an archived agreement is read-only) lives in the door; this only turns
its refusal into the response, so part 2's routes can ask for a unit of work in one line.
"""

from __future__ import annotations

from flask import abort, make_response

from web.context import db
from web.desk.door import WriteRefused, acting, desk_agreement, refused_write
from workflow.agreement.models import Agreement
from workflow.audit import UnitOfWork

__all__ = ["acting_unit", "desk_agreement"]


def acting_unit(agreement: Agreement) -> UnitOfWork:
    """The unit of work of a change by the signed-in person in `agreement` (channel web), or 403 with why."""
    try:
        return acting(db(), agreement)
    except WriteRefused as exc:
        abort(make_response(*refused_write(agreement, exc)))
