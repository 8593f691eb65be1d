#!/usr/bin/env bash
# One entry point for developers and CI.
#   ./dev.sh demo   set up (first run) and run the narrated end-to-end demo
#   ./dev.sh test   set up (first run) and run lint, type checks and the whole test suite
#   ./dev.sh bench  run the benchmarks (docs/BENCHMARKS.md)
# Set-up: a virtual environment in .venv with neweid installed editable plus its dev extras.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv
stamp=$VENV/.installed
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# The PC/SC extra (pyscard) builds against pcsc-lite's headers, present once
# scripts/install-system-parts.sh has run; without them the core installs alone.
extras="dev"
if [ -f /usr/include/PCSC/winscard.h ] && command -v swig >/dev/null 2>&1; then extras="dev,pcsc"; fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$(cat "$stamp")" != "$extras" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[$extras]"
  echo "$extras" > "$stamp"
fi
cmd=${1:-demo}; shift || true
case "$cmd" in
  demo)  exec "$VENV/bin/neweid" demo "$@" ;;
  test)
    "$VENV/bin/ruff" check src tests scripts
    "$VENV/bin/mypy"
    exec "$VENV/bin/python" -m pytest "$@" ;;
  bench) exec "$VENV/bin/python" scripts/bench.py "$@" ;;
  *) echo "usage: ./dev.sh demo|test|bench" >&2; exit 2 ;;
esac
