#!/usr/bin/env bash
# Runs Orkestra's whole test suite: unit and integration tests on SQLite and PostgreSQL,
# the official Craftgate SDKs (Python 1.0.5, Node 1.0.65) against a running server on
# SQLite and PostgreSQL, and the pages in headless Chromium. Installs what it needs from
# PyPI, npm and Debian (chromium).
#
#   bash scripts/test.sh            # everything
#   ORKESTRA_TEST_POSTGRES_URL=...  # PostgreSQL admin URL (default: postgres://postgres@127.0.0.1:5432/postgres)
#   SKIP_POSTGRES=1                 # SQLite only (no PostgreSQL server at hand)
set -euo pipefail
cd "$(dirname "$0")/.."

PG_ADMIN_URL="${ORKESTRA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
step() { printf '\n==> %s\n' "$*"; }

step "installing the test clients (PyPI, npm, Debian's Chromium)"
python3 -m pip install --quiet --disable-pip-version-check -r tests/sdk/python/requirements.txt
(cd tests/sdk/node && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1
  fi
fi

step "building"
cargo build --workspace --all-targets --locked

run_cargo_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
  else
    cargo test --workspace --locked --no-fail-fast
  fi
}

step "Rust tests on SQLite"
run_cargo_tests
cargo test --workspace --locked --doc

if [ -z "${SKIP_POSTGRES:-}" ]; then
  # Leftover per-test databases from earlier runs.
  psql "$PG_ADMIN_URL" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'ork_it_%' OR datname LIKE 'orkestra_sdk_%'" 2>/dev/null \
    | while read -r db; do [ -n "$db" ] && psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done || true
  step "Rust tests on PostgreSQL"
  ORKESTRA_TEST_POSTGRES_URL="$PG_ADMIN_URL" run_cargo_tests
fi

export ORKESTRA_BIN="$PWD/target/debug/orkestra"
step "Python SDK suite on SQLite"
ORKESTRA_TEST_DB=sqlite python3 -m pytest tests/sdk/python -q -p no:cacheprovider
if [ -z "${SKIP_POSTGRES:-}" ]; then
  step "Python SDK suite on PostgreSQL"
  ORKESTRA_TEST_DB=postgres python3 -m pytest tests/sdk/python -q -p no:cacheprovider
fi

step "Node SDK smoke test"
node --test tests/sdk/node/

step "browser tests (headless Chromium)"
(cd tests/browser && node --test)
