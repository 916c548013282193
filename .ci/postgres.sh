#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1:54329 for the store tests, and print the
# line that points the tests at it:   eval "$(bash .ci/postgres.sh)"
#
# Idempotent: installs Debian's packages only when no initdb is found, initialises the
# cluster only once, starts the server only when it is not answering, creates the role and
# the database only when missing. Everything but the final export line goes to stderr.
# The cluster is for tests only: fsync is off (a crash loses it, which costs nothing here).
set -euo pipefail

PORT="${CF_PG_PORT:-54329}"
ROOT="${CF_PG_DIR:-/tmp/cf-pg}"
ROLE=campaignflow
PASSWORD=campaignflow
DB=campaignflow_test

log() { printf 'postgres.sh: %s\n' "$*" >&2; }

bindir() {
    # The newest installed major version of Debian's layout (/usr/lib/postgresql/NN/bin).
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        printf '%s\n' "$dir"
    fi
}

BIN=$(bindir)
if [ -z "$BIN" ]; then
    log "no PostgreSQL server binaries found; installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN=$(bindir)
    [ -n "$BIN" ] || { log "initdb still not found after installing postgresql"; exit 1; }
fi
log "using $BIN"

# initdb and postgres refuse to run as root: run them as the postgres user when we are root.
if [ "$(id -u)" = 0 ]; then
    OWNER=postgres
    if ! id -u "$OWNER" >/dev/null 2>&1; then
        log "creating the $OWNER system user"
        useradd --system --no-create-home --shell /bin/sh "$OWNER"
    fi
    as_owner() { runuser -u "$OWNER" -- "$@"; }
else
    OWNER=$(id -un)
    as_owner() { "$@"; }
fi

DATA="$ROOT/data"
mkdir -p "$ROOT"
chown "$OWNER" "$ROOT"
chmod 700 "$ROOT"

if [ ! -s "$DATA/PG_VERSION" ]; then
    log "initialising a cluster in $DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >&2 \
        || as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --no-locale >&2
fi

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }

if ! ready; then
    log "starting the server on 127.0.0.1:$PORT"
    # A stale pid file from a killed server would stop pg_ctl; it is safe to remove when the
    # server does not answer.
    if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        rm -f "$DATA/postmaster.pid"
    fi
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$ROOT/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2
fi

for _ in $(seq 1 60); do
    ready && break
    sleep 0.5
done
ready || { log "the server did not become ready; see $ROOT/server.log"; exit 1; }

psql_super() { as_owner "$BIN/psql" -h "$ROOT" -p "$PORT" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }

if [ "$(psql_super -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
    log "creating role $ROLE"
    psql_super -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
fi
if [ "$(psql_super -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    log "creating database $DB"
    psql_super -c "CREATE DATABASE $DB OWNER $ROLE" >&2
fi

echo "export CAMPAIGNFLOW_PG_DSN=postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
