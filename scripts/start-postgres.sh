#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers on 127.0.0.1:5432 and has a `neweid` database; prints its URL.
# Exits 1 (printing nothing on stdout) when no PostgreSQL is installed or it cannot be started.
set -uo pipefail
url="postgres://postgres@127.0.0.1:5432/neweid"
ready() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
if ! command -v pg_isready >/dev/null 2>&1; then exit 1; fi
if ! ready; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start >&2 || true
  fi
  for _ in $(seq 1 50); do ready && break; sleep 0.2; done
fi
ready || exit 1
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='neweid'" 2>/dev/null | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -c "create database neweid" >&2 || exit 1
fi
echo "$url"
