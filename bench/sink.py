"""An SMTP sink in a process of its own (aiosmtpd): accepts every mail and logs when, line by line.

`python -m bench.sink --port P --log FILE [--keep FILE]` prints "ready" once it listens, writes
"<unix time> <Message-ID>" per accepted mail, keeps the mails themselves with --keep (for a
baseline to send the very same bytes again), and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    def __init__(self, log, keep=None) -> None:
        self.log, self.keep = log, keep

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.content, 0, 4096)
        self.log.write(f"{time.time():.6f} {found.group(1).decode() if found else '-'}\n")
        if self.keep is not None:
            self.keep.write(f"{len(envelope.content)} {envelope.rcpt_tos[0]}\n".encode() + envelope.content)
        return "250 2.0.0 Ok: accepted"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--keep")
    args = parser.parse_args()
    keep = open(args.keep, "wb") if args.keep else None  # noqa: SIM115 (closed below)
    with open(args.log, "a", buffering=1) as log:
        controller = Controller(Sink(log, keep), hostname="127.0.0.1", port=args.port, data_size_limit=None)
        controller.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        print("ready", flush=True)
        stop.wait()
        controller.stop()
    if keep is not None:
        keep.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
