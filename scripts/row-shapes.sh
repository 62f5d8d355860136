#!/usr/bin/env bash
# Checks every SQL query's row shape against a real PostgreSQL: creates a scratch database on
# the stack's server, applies migrations/ to it, runs `cargo test -p store --test row_shapes`
# (each query run the way the Dapr binding runs it, its rows decoded into the row type its
# builder names) and drops the database. A scratch database, so the stack's own services never
# see (nor race with) the test's rows.
#   scripts/row-shapes.sh [dev|test]   (default test; the test stack honours TEST_PORT_OFFSET)
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

stack="${1:-test}"
case "$stack" in dev|test) ;; *) die "usage: scripts/row-shapes.sh [dev|test]" ;; esac
stack_env "$stack"
for bin in psql cargo; do
  command -v "$bin" >/dev/null || die "$bin is not installed (run scripts/setup.sh)"
done
admin=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
"${admin[@]}" -c "select 1" >/dev/null 2>&1 || die "PostgreSQL of the $stack stack does not answer on port $PG_PORT (scripts/stack.sh $stack up)"

scratch="${TODO_DB_NAME}_row_shapes"
drop_scratch() { "${admin[@]}" -c "drop database if exists $scratch with (force)" >/dev/null 2>&1 || true; }
trap drop_scratch EXIT
drop_scratch
log "creating scratch database $scratch"
"${admin[@]}" -c "create database $scratch owner $TODO_DB_USER"
PG_DSN="postgresql://$TODO_DB_USER:$TODO_DB_PASSWORD@127.0.0.1:$PG_PORT/$scratch"
apply_migrations
log "row shapes of every query"
STORE_TEST_PG_DSN="$PG_DSN" cargo test -p store --locked --test row_shapes -- --ignored
