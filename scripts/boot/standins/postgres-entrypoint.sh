#!/bin/bash
# docker-entrypoint.sh of the postgres:<major> stand-in image (boot tier only). It does what the
# official image documents, and no more:
# - as root, it prepares $PGDATA and the socket folder for the postgres user, then re-runs as it;
# - on an empty $PGDATA: initdb with POSTGRES_USER / POSTGRES_PASSWORD (POSTGRES_INITDB_ARGS,
#   POSTGRES_HOST_AUTH_METHOD), creates POSTGRES_DB, then runs /docker-entrypoint-initdb.d/*
#   in name order (*.sql and *.sql.gz with psql, *.sh executed or sourced) against a server
#   that listens on its Unix socket only, with this container's environment;
# - finally execs the command (postgres), listening on every address.
set -Eeuo pipefail

if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA

if [ "$1" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 2777 /var/run/postgresql
  exec gosu postgres "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo 'error: the database is uninitialized and POSTGRES_PASSWORD is not set' >&2
    exit 1
  fi
  export POSTGRES_USER="${POSTGRES_USER:-postgres}"
  export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words on purpose
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") ${POSTGRES_INITDB_ARGS:-}
  {
    echo
    echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  } >> "$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p ${PGPORT:-5432}" start
  export PGPASSWORD="${POSTGRES_PASSWORD:-}"
  run_psql() { psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" "$@"; }
  if [ "$POSTGRES_DB" != postgres ]; then
    run_psql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then echo "running $f"; "$f"; else echo "sourcing $f"; . "$f"; fi ;;
      *.sql) echo "running $f"; run_psql --dbname "$POSTGRES_DB" -f "$f"; echo ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | run_psql --dbname "$POSTGRES_DB"; echo ;;
      *) if [ -e "$f" ]; then echo "ignoring $f"; fi ;;
    esac
  done
  unset PGPASSWORD
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo 'PostgreSQL init process complete; ready for start up.'
fi

exec postgres -c listen_addresses='*' "${@:2}"
