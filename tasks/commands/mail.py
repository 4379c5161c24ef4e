"""Mail: `trygg mail test ADDRESS`, one mail through the configured transport before going live."""

from __future__ import annotations

from typing import Annotated

import typer

from tasks.commands.common import EXIT_INPUT, JsonFlag, console, err, print_json
from workflow.addresses import AddressError
from workflow.clock import SystemClock
from workflow.i18n import _, _l, current_language
from workflow.outbox.probe import send_test_mail
from workflow.outbox.transport import transport_from_settings
from workflow.settings import get_settings

EXIT_NOT_ACCEPTED = 1

app = typer.Typer(help=_l("Mail"), no_args_is_help=True)


@app.command(
    "test", help=_l("Send one test mail through the configured transport and show the server's answer.")
)
def test(
    address: Annotated[str, typer.Argument(help=_l("the recipient's address"))],
    as_json: JsonFlag = False,
) -> None:
    """Send one test mail and show the server's answer."""
    settings = get_settings()
    try:
        outcome = send_test_mail(
            transport_from_settings(settings),
            to=address,
            sender=settings.mail_from,
            envelope_sender=settings.envelope_sender,
            now=SystemClock().now(),
            lang=current_language(),
        )
    except AddressError as exc:
        err.print(_("[red]Invalid address:[/] %(reason)s", reason=str(exc)), highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    accepted = outcome.status == "sent"
    if as_json:
        print_json({"accepted": accepted, "status": outcome.status, "reply": outcome.reply})
    elif accepted:
        console.print(_("[green]Accepted:[/] %(reply)s", reply=outcome.reply), highlight=False)
    else:
        err.print(
            _("[red]Not accepted[/] (%(status)s): %(reply)s", status=outcome.status, reply=outcome.reply),
            highlight=False,
            soft_wrap=True,
        )
    if not accepted:
        raise typer.Exit(EXIT_NOT_ACCEPTED)
