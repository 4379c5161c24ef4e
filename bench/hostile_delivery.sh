#!/usr/bin/env bash
# Run from anywhere: bench/hostile_delivery.sh (needs the dev venv in .venv; SQLite and two local aiosmtpd sinks).
# Hostile inputs at delivery, measured through the real CLI: wall time and peak RSS (/usr/bin/time),
# exit code, and whether the database changed (sha256 of `sqlite3 .dump`-equivalent via Python).
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd); PY=$REPO/.venv/bin/python; W=$(mktemp -d)
cd "$W"
dbsum() { $PY - "$1" <<'P'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); print(hashlib.sha256("\n".join(c.iterdump()).encode()).hexdigest()[:12])
P
}
summ() { $PY - "$W/out" "$W/err" <<'P'
import json, sys
out, err = (open(f, encoding="utf-8", errors="replace").read() for f in sys.argv[1:])
try:
    d = json.loads(out)["delivery"]
    print(f"sent {len(d['sent'])}, retrying {len(d['retrying'])}, failed {len(d['failed'])}: "
          + "; ".join(f"{m['to']}: {m['reply'][:70]}" for m in d["failed"] + d["retrying"][:1]))
except Exception:
    print((err + out).strip().replace("\n", " ")[-170:])
P
}
measure() {  # label, env..., -- command...
  local label=$1; shift; local envs=(); while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  local before=$(dbsum "$W/t.db")
  env "${envs[@]}" /usr/bin/time -f "%e %M" -o "$W/time" "$PY" -m tasks.cli "$@" >"$W/out" 2>"$W/err"; local rc=$?
  read secs kb < <(tail -1 "$W/time"); local after=$(dbsum "$W/t.db")
  printf '%-44s | rc=%s | %6.2f s | %4d MB | db %s | %s\n' "$label" "$rc" "$secs" "$((kb/1024))" \
    "$([ "$before" = "$after" ] && echo unchanged || echo changed)" "$(summ)"
}
PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
PORTU=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cd $REPO
$PY -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l 127.0.0.1:$PORT & SINK=$!
$PY -m aiosmtpd -n -u -c aiosmtpd.handlers.Sink -l 127.0.0.1:$PORTU & SINKU=$!
trap "kill $SINK $SINKU" EXIT; sleep 2
$PY - "$W" <<'P'
import sys
from pathlib import Path
from tests.test_hostile_delivery import ten_people
w = Path(sys.argv[1])
for name, emails in {"idn": {4: "x@xn--exmple-cua.se"}, "utf8": {4: "åsa@example.org"},
                     "shared": {5: "delad@example.org", 6: "Delad@example.org"}, "bad": {2: "a@b"},
                     "newline": {2: "a\n@example.org"}}.items():
    (w / name).mkdir(); ten_people(w / name, emails)
(w / "plain").mkdir(); ten_people(w / "plain")
P
D="TRYGG_DATABASE_URL=sqlite:///$W/t.db"; NOW=2013-03-15T08:00:00+01:00
fresh() { rm -f "$W/t.db"; env "$D" $PY -m tasks.cli db upgrade >/dev/null; env "$D" $PY -m tasks.cli load "$W/$1/agreement.yaml" >/dev/null 2>&1; }
fresh idn;   measure "IDN recipient among ten (sweep, SMTP)" "$D" TRYGG_SMTP_URL=smtp://127.0.0.1:$PORT -- sweep --now $NOW --json
fresh utf8;  measure "non-ASCII local part, no SMTPUTF8" "$D" TRYGG_SMTP_URL=smtp://127.0.0.1:$PORT -- sweep --now $NOW --json
fresh utf8;  measure "non-ASCII local part, SMTPUTF8 offered" "$D" TRYGG_SMTP_URL=smtp://127.0.0.1:$PORTU -- sweep --now $NOW --json
fresh plain; touch "$W/mailfile"; measure "TRYGG_MAIL_DIR is a file (sweep)" "$D" TRYGG_MAIL_DIR=$W/mailfile -- sweep --now $NOW --json
fresh plain; measure "SMTP password with / # ? and a bad port" "$D" 'TRYGG_SMTP_URL=smtp://u:pa/ss#w?rd@127.0.0.1:2x5' -- sweep --now $NOW --json
measure "AUTH over plain smtp:// port 25 (run)" "$D" 'TRYGG_SMTP_URL=smtp://u:secret@127.0.0.1:25' -- run --interval 5
fresh plain; measure "address a@b in the agreement (load)" "$D" -- load "$W/bad/agreement.yaml"
measure "address with a newline (check)" "$D" -- check "$W/newline/agreement.yaml"
rm -f "$W/t.db"; env "$D" $PY -m tasks.cli db upgrade >/dev/null
measure "two people, one address (load)" "$D" -- load "$W/shared/agreement.yaml"
measure "  … then the sweep: one mail for both" "$D" TRYGG_SMTP_URL=smtp://127.0.0.1:$PORT -- sweep --now $NOW --json
measure "mail test to an IDN address" "$D" TRYGG_SMTP_URL=smtp://127.0.0.1:$PORT TRYGG_BOUNCE_ADDRESS=bounces@example.org -- mail test anna@exämple.se
measure "mail test, nobody listening" "$D" TRYGG_SMTP_URL=smtp://127.0.0.1:1 -- mail test anna@example.org

