#!/usr/bin/env bash
# Compute at scale: 1,000 servers over 50 fake hosts at concurrency 50 (boot, list,
# delete, boot+delete), then 10,000 servers (list latency, full walk).
#
# usage: bash bench/compute/run.sh [bench.py options]   (from anywhere; `make bench-compute`)
#
# Starts its own nubo (SQLite, in-process bus, fake driver with zero delays) on a
# free port in a temporary state dir, prints one JSON document on stdout (progress
# and nubo's own log stay out of it) and removes everything afterwards.
# BENCH_OUTPUT=path also writes the JSON there. See bench/compute/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
if [ -n "${BENCH_OUTPUT:-}" ]; then
    "$PY" bench/compute/bench.py "$@" | tee "$BENCH_OUTPUT"
else
    exec "$PY" bench/compute/bench.py "$@"
fi
