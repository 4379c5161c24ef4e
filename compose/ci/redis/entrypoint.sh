#!/bin/sh
# As the official image: redis-server as the redis user, protected mode off (only the compose
# network reaches it; nothing is published).
set -eu
if [ "${1:-}" = redis-server ]; then
  set -- "$@" --protected-mode no
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
