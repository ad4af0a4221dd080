#!/bin/bash
# docker-entrypoint.sh of the redis:<major> stand-in image (boot tier only). It does what the
# official image does, and no more:
# - arguments that start with "-", or a *.conf file first, are redis-server's;
# - as root, it hands /data (the working directory, the volume) to the redis user and re-runs as it;
# - redis-server runs with protected mode off, the default the official image compiles in (its
#   port is reached from other containers; Debian's build defaults to on, which refuses them);
# - files are created with umask 0077, as there.
set -Eeuo pipefail

if [ "${1:0:1}" = - ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" != redis-server ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec gosu redis "$BASH_SOURCE" "$@"
fi

shift
conf=()
# A config file must come first; options after it override it.
if [ "${1:-}" != "" ] && [ "${1%.conf}" != "$1" ]; then conf=("$1"); shift; fi
umask 0077
exec redis-server "${conf[@]}" --protected-mode no "$@"
