"""Email addresses: the one check that `trygg check`/`load` and delivery share, and their wire forms.

An address is accepted once, in one place: the agreement file's email fields, `trygg mail test`
and the deliverer all ask `parse_address`, so an address that passes `check` is one delivery can
write. Domains travel IDNA-encoded (`exämple.se` as `xn--exmple-cua.se`), valid in any header
and any SMTP conversation; only a non-ASCII local part needs a server that offers SMTPUTF8.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """An address that cannot be delivered to; the message says why (never a traceback)."""


@dataclass(frozen=True)
class MailAddress:
    """A checked address: as stored (domain in Unicode, lower case) and as it travels."""

    normalized: str  # what the agreement file's field becomes, e.g. x@exämple.se
    local: str
    ascii_domain: str  # IDNA: xn--exmple-cua.se

    @property
    def needs_smtputf8(self) -> bool:
        """A local part outside ASCII can travel only where the server offers SMTPUTF8."""
        return not self.local.isascii()

    @property
    def wire(self) -> str:
        """The form for headers and the SMTP envelope: ASCII whenever the local part allows."""
        return f"{self.local}@{self.ascii_domain}"


def parse_address(text: str) -> MailAddress:
    """Check one bare address (`name@domain.tld`, no display name); AddressError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise AddressError("empty address")
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    return MailAddress(checked.normalized, checked.local_part, checked.ascii_domain)


def check_address(text: str) -> str:
    """The normalised address (a setting's validator; pydantic reports the AddressError)."""
    return parse_address(text).normalized


def envelope_form(sender: str) -> str:
    """The bare address of a From or bounce setting (`trygg <trygg@exämple.se>`), domain IDNA-encoded.

    Lenient on purpose: the embedded default `trygg@localhost` has no dot and still writes files.
    """
    address = parseaddr(sender)[1] or sender.strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address
