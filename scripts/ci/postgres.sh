#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store tests (Debian's `postgresql`, installed if missing).
#
# Sourced by scripts/test.sh (`. scripts/ci/postgres.sh`): starts a cluster in a temp dir that listens
# on a unix socket only (no TCP port to collide with), exports GDM_TEST_POSTGRES_URL
# (postgresql+psycopg://gdm@/gdm_test?host=DIR&port=PORT) and stops and removes it when the shell exits.
# Run with a command (`bash scripts/ci/postgres.sh .venv/bin/python -m pytest tests/unit`), it runs the
# command with the URL set, then stops the cluster. As root the server runs as the `postgres` user
# (PostgreSQL refuses to run as root). Under CI=true a cluster that cannot start fails the run;
# elsewhere it warns, and the PostgreSQL tests skip.

_gdm_pg_fail() {
  echo "scripts/ci/postgres.sh: $*" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  return 1
}

_gdm_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

_gdm_pg_install() {
  [ -n "$(_gdm_pg_bin)" ] && return 0
  [ "$(id -u)" = 0 ] || { _gdm_pg_fail "postgresql is not installed and this is not root"; return 1; }
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1; then
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends postgresql >/dev/null \
      || { _gdm_pg_fail "apt-get install postgresql failed"; return 1; }
  fi
  [ -n "$(_gdm_pg_bin)" ] || { _gdm_pg_fail "postgresql installed but no /usr/lib/postgresql/*/bin"; return 1; }
}

_gdm_pg_start() {
  _gdm_pg_install || return 1
  local bin dir port as=()
  bin="$(_gdm_pg_bin)"
  dir="$(mktemp -d /tmp/gdm-pg.XXXXXX)"
  port=$((50000 + RANDOM % 10000))
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    as=(runuser -u postgres --)
  fi
  chmod 755 "$dir"
  GDM_PG_DIR="$dir"
  GDM_PG_STOP="${as[*]:-} $bin/pg_ctl -D $dir/data -m immediate -s stop >/dev/null 2>&1; rm -rf $dir"
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U gdm --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; _gdm_pg_fail "initdb failed"; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -w -s -l "$dir/data/server.log" \
    -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c max_connections=200" start \
    || { cat "$dir/data/server.log" >&2; _gdm_pg_fail "the PostgreSQL server did not start"; return 1; }
  "$bin/createdb" -h "$dir" -p "$port" -U gdm gdm_test \
    || { _gdm_pg_fail "createdb gdm_test failed"; return 1; }
  export GDM_TEST_POSTGRES_URL="postgresql+psycopg://gdm@/gdm_test?host=$dir&port=$port"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests: $GDM_TEST_POSTGRES_URL"
}

_gdm_pg_stop() {
  [ -n "${GDM_PG_STOP:-}" ] && eval "$GDM_PG_STOP"
  GDM_PG_STOP=""
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: stop the cluster when the sourcing shell exits (after any EXIT trap it already had).
  _gdm_pg_prev_trap="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")"
  if _gdm_pg_start; then
    trap "_gdm_pg_stop; ${_gdm_pg_prev_trap:-:}" EXIT
  else
    _gdm_pg_stop
    echo "scripts/ci/postgres.sh: no PostgreSQL; its tests will skip" >&2
  fi
else
  set -euo pipefail
  trap _gdm_pg_stop EXIT
  _gdm_pg_start
  if [ "$#" -gt 0 ]; then "$@"; fi
fi
