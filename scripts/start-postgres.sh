#!/usr/bin/env bash
# Start a local PostgreSQL server from Debian packages for the store tests, and print its URL.
# Installs the `postgresql` package with apt when missing. Idempotent: safe to run twice.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
read -r VERSION CLUSTER PORT STATUS _ < <(pg_lsclusters --no-header | head -n 1 || true)
if [ -z "${VERSION:-}" ]; then
  VERSION=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  $SUDO pg_createcluster "$VERSION" main >&2
  read -r VERSION CLUSTER PORT STATUS _ < <(pg_lsclusters --no-header | head -n 1)
fi
if [ "$STATUS" != "online" ]; then
  $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
as_postgres "psql -p $PORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname='terrain'\"" | grep -q 1 \
  || as_postgres "psql -p $PORT -qc \"CREATE ROLE terrain LOGIN SUPERUSER PASSWORD 'terrain'\"" >&2
as_postgres "psql -p $PORT -tAc \"SELECT 1 FROM pg_database WHERE datname='terrain_test'\"" | grep -q 1 \
  || as_postgres "psql -p $PORT -qc 'CREATE DATABASE terrain_test OWNER terrain'" >&2
echo "postgresql+psycopg://terrain:terrain@127.0.0.1:$PORT/terrain_test"
