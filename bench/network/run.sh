#!/usr/bin/env bash
# Networking API latency: network, subnet, port, router, router interface and
# floating IP creates at concurrency 1 and 16 (target p50 under 20 ms per call).
#
# usage: bash bench/network/run.sh [bench.py options]   (from anywhere; `make bench-network`)
#
# Starts its own nubo (SQLite, in-process bus, fake agents) on a free port in a
# temporary state dir, prints one JSON document on stdout and removes everything
# afterwards. BENCH_OUTPUT=path also writes the JSON there. See bench/network/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
if [ -n "${BENCH_OUTPUT:-}" ]; then
    "$PY" bench/network/bench.py "$@" | tee "$BENCH_OUTPUT"
else
    exec "$PY" bench/network/bench.py "$@"
fi
