#!/usr/bin/env bash
# From `openstack server create` to ssh through the floating IP (p50 of 10 servers),
# against bare QEMU booting the same guest image in the same run.
#
# usage: bash bench/dataplane/run.sh [bench.py options]   (as root; `make bench-dataplane`)
#
# Starts its own nubo (libvirt, Linux bridge, a public network of its own), prints one
# JSON document on stdout and removes everything afterwards. BENCH_OUTPUT=path also
# writes the JSON there. See bench/dataplane/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
if [ -n "${BENCH_OUTPUT:-}" ]; then
    "$PY" bench/dataplane/bench.py "$@" | tee "$BENCH_OUTPUT"
else
    exec "$PY" bench/dataplane/bench.py "$@"
fi
