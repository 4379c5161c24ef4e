#!/usr/bin/python3
"""An SMTP sink for CI (tests/compose/run): every message it accepts is kept (one JSON line each
in MP_DATABASE, so a restart forgets nothing) and listed on http://…:8025/api/v1/messages.

`/mailpit` serves; `/mailpit readyz` exits 0 when both ports answer (the compose healthcheck).
Each message takes SINK_DELAY seconds before its "250", so that deliveries are in flight when a
test makes a fault.
"""

import asyncio
import email
import json
import os
import signal
import smtplib
import sys
import threading
import time
import urllib.request
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

STORE = os.environ.get("MP_DATABASE", "/data/mailpit.db")
DELAY = float(os.environ.get("SINK_DELAY", "1.0"))
LOCK = threading.Lock()
MESSAGES: list[dict] = []


def load() -> None:
    if os.path.exists(STORE):
        with open(STORE, encoding="utf-8") as f:
            MESSAGES.extend(json.loads(line) for line in f if line.strip())


class Sink:
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(DELAY)
        msg = email.message_from_bytes(envelope.content, policy=default)
        with LOCK:
            record = {
                "ID": str(len(MESSAGES) + 1),
                "MessageID": str(msg.get("Message-ID", "")).strip().strip("<>"),
                "Kind": str(msg.get("X-Trygg-Kind", "")),
                "Subject": str(msg.get("Subject", "")),
                "From": {"Address": envelope.mail_from},
                "To": [{"Address": a} for a in envelope.rcpt_tos],
                "Peer": session.peer[0] if session.peer else "",
                "Created": time.time(),
            }
            with open(STORE, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
                f.flush()
                os.fsync(f.fileno())
            MESSAGES.append(record)
        return "250 Message accepted for delivery"


class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/readyz":
            self.answer(200, b"ok\n", "text/plain")
        elif self.path.split("?")[0] == "/api/v1/messages":
            with LOCK:
                body = {"total": len(MESSAGES), "messages": list(reversed(MESSAGES))}
            self.answer(200, json.dumps(body).encode(), "application/json")
        else:
            self.answer(404, b"not found\n", "text/plain")

    def answer(self, status, body, kind):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve() -> None:
    os.makedirs(os.path.dirname(STORE), exist_ok=True)
    load()
    smtp = Controller(Sink(), hostname="0.0.0.0", port=1025, ready_timeout=30)
    smtp.start()
    # As PID 1 the sink gets no default SIGTERM: without this `docker stop` waits 10 s and kills.
    # Every message is on disk before its "250", so there is nothing to finish.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(
        f"mail sink: SMTP on :1025, API on :8025, {len(MESSAGES)} messages kept, {DELAY} s each", flush=True
    )
    ThreadingHTTPServer(("0.0.0.0", 8025), Api).serve_forever()


def readyz() -> int:
    try:
        urllib.request.urlopen("http://127.0.0.1:8025/readyz", timeout=3).read()
        with smtplib.SMTP("127.0.0.1", 1025, timeout=3) as smtp:
            smtp.noop()
    except OSError as e:
        print(f"not ready: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["readyz"]:
        sys.exit(readyz())
    serve()
