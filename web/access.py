"""The web's door for the desk and the overview: the signed-in address's access, checked before anything else.

Deny by default: nobody signed in gets 403 (with a way to sign in); an agreement the address does not
see answers 404 (its existence is not told); one it sees without the role answers 403.
"""

from __future__ import annotations

from flask import abort, g
from sqlalchemy import select

from web.context import db, signed_in_email
from workflow.agreement.models import Agreement
from workflow.desk.access import Access, access_of


def current_access() -> Access | None:
    """The signed-in address's access, read once per request."""
    if "access" not in g:
        g.access = access_of(db(), signed_in_email())
    return g.access


def require_access() -> Access:
    access = current_access()
    if access is None:
        abort(403)
    return access


def agreement_for(key: str, *roles: str) -> Agreement:
    """The agreement with file id `key` if the signed-in address holds one of `roles` in it; else 403/404."""
    access = require_access()
    agreement = db().scalar(select(Agreement).where(Agreement.key == key))
    if agreement is None or not access.sees(agreement.id):
        abort(404)
    if not access.may(agreement.id, *roles):
        abort(403)
    return agreement
