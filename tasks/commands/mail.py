"""Mail: `trygg mail test ADDRESS`, one mail through the configured transport before going live."""

from __future__ import annotations

from typing import Annotated

import typer

from tasks.commands.common import EXIT_INPUT, JsonFlag, console, err, print_json, t
from workflow.addresses import AddressError
from workflow.clock import SystemClock
from workflow.outbox.probe import send_test_mail
from workflow.outbox.transport import transport_from_settings
from workflow.settings import get_settings

EXIT_NOT_ACCEPTED = 1

app = typer.Typer(help="E-post / mail", no_args_is_help=True)


@app.command("test")
def test(
    address: Annotated[str, typer.Argument(help="mottagarens adress / the recipient's address")],
    as_json: JsonFlag = False,
) -> None:
    """Skicka ett testmejl och visa serverns svar / send one test mail and show the server's answer."""
    settings = get_settings()
    try:
        outcome = send_test_mail(
            transport_from_settings(settings),
            to=address,
            sender=settings.mail_from,
            envelope_sender=settings.envelope_sender,
            now=SystemClock().now(),
            lang=settings.language,
        )
    except AddressError as exc:
        err.print(t(f"[red]Ogiltig adress:[/] {exc}", f"[red]Invalid address:[/] {exc}"), highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    accepted = outcome.status == "sent"
    if as_json:
        print_json({"accepted": accepted, "status": outcome.status, "reply": outcome.reply})
    elif accepted:
        console.print(t(f"[green]Mottaget:[/] {outcome.reply}", f"[green]Accepted:[/] {outcome.reply}"))
    else:
        err.print(
            t(f"[red]Inte mottaget[/] ({outcome.status}): ", f"[red]Not accepted[/] ({outcome.status}): ")
            + outcome.reply,
            highlight=False,
            soft_wrap=True,
        )
    if not accepted:
        raise typer.Exit(EXIT_NOT_ACCEPTED)
