#!/usr/bin/env bash
# nubo's identity API against the reference Keystone, same client, one run.
#
# usage: bash bench/identity/run.sh            (from the repository root; `make bench-identity`)
#
# 1. installs (once), sets up and starts the reference Keystone with
#    ../shared/anchors/keystone.sh (SQLite, Fernet, in-process cache, gunicorn,
#    bcrypt at 4 rounds);
# 2. starts a fresh all-in-one nubo on a free port with the same password hash
#    (bcrypt, 4 rounds) so that a password token costs the same hash on both sides;
# 3. runs ../shared/bench/identity_bench.py against both (plus the token-method
#    issue scenario, which that harness lacks; see compare.py) and prints one JSON
#    document with both results, the ratios nubo/keystone, the targets and the verdicts.
#
# Environment: ANCHOR_HOME (default $HOME/.cache/anchors), KEYSTONE_PORT (15500),
# BENCH_CONCURRENCY (1,8,32), BENCH_DURATION (10), BENCH_WARMUP (2), BENCH_REPEATS (3),
# BENCH_CLIENT (wrk when installed, else aiohttp), BENCH_OUTPUT (also write the JSON here).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
SHARED=$REPO/../shared
PY=${PYTHON:-$REPO/.venv/bin/python}
export ANCHOR_HOME=${ANCHOR_HOME:-$HOME/.cache/anchors}
export KEYSTONE_PORT=${KEYSTONE_PORT:-15500}
KEYSTONE=$SHARED/anchors/keystone.sh
KD=${KEYSTONE_DIR:-$ANCHOR_HOME/keystone}
HASH_ALGORITHM=bcrypt
HASH_ROUNDS=4   # keystone.sh writes [identity] password_hash_rounds = 4 (bcrypt is its default)

if [ -z "${BENCH_CLIENT:-}" ] && ! command -v wrk > /dev/null && [ "$(id -u)" = 0 ] \
        && command -v apt-get > /dev/null; then
    # wrk (Debian's package) costs the client far less CPU than aiohttp: on a small box
    # that CPU is taken from the servers being measured
    echo "== installing wrk" >&2
    { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; } \
        > /dev/null 2>&1 || echo "could not install wrk; using aiohttp" >&2
fi
if [ -z "${BENCH_CLIENT:-}" ]; then
    if command -v wrk > /dev/null; then BENCH_CLIENT=wrk; else BENCH_CLIENT=aiohttp; fi
fi
if [ "$BENCH_CLIENT" = aiohttp ] && ! "$PY" -c 'import aiohttp' 2> /dev/null; then
    "$REPO/.venv/bin/pip" install -q 'aiohttp>=3.9'
fi
grep -q '^password_hash_rounds = 4$' "$KEYSTONE" \
    || { echo "keystone.sh no longer uses 4 bcrypt rounds; update HASH_ROUNDS" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nubo-bench-identity.XXXXXX")
NUBO_PID=""
cleanup() {
    if [ -n "$NUBO_PID" ] && kill -0 "$NUBO_PID" 2> /dev/null; then
        kill "$NUBO_PID" 2> /dev/null || true
        wait "$NUBO_PID" 2> /dev/null || true
    fi
    bash "$KEYSTONE" stop > /dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "== reference keystone" >&2
[ -x "$ANCHOR_HOME/keystone-venv/bin/keystone-manage" ] || bash "$KEYSTONE" install >&2
bash "$KEYSTONE" stop > /dev/null 2>&1 || true
bash "$KEYSTONE" setup > "$WORK/keystone-setup.log" 2>&1 \
    || { cat "$WORK/keystone-setup.log" >&2; exit 1; }
bash "$KEYSTONE" start >&2
KEYSTONE_PID=$(cat "$KD/gunicorn.pid")

echo "== nubo" >&2
NUBO_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NUBO_IDENTITY__PASSWORD_HASH_ALGORITHM=$HASH_ALGORITHM \
NUBO_IDENTITY__PASSWORD_HASH_ROUNDS=$HASH_ROUNDS \
NUBO_CORE__LOG_LEVEL=WARNING \
    "$PY" -m nubo.cli.main up --foreground --state-dir "$WORK/nubo" --port "$NUBO_PORT" \
    > "$WORK/nubo.log" 2>&1 < /dev/null &
NUBO_PID=$!
NUBO_URL=http://127.0.0.1:$NUBO_PORT/identity/v3
for _ in $(seq 120); do
    curl -sf -o /dev/null "$NUBO_URL" && break
    kill -0 "$NUBO_PID" 2> /dev/null || { cat "$WORK/nubo.log" >&2; exit 1; }
    sleep 0.5
done
curl -sf -o /dev/null "$NUBO_URL" || { echo "nubo did not come up" >&2; cat "$WORK/nubo.log" >&2; exit 1; }
echo "nubo up at $NUBO_URL (pid $NUBO_PID)" >&2
NUBO_PASSWORD=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin_password"])' \
    "$WORK/nubo/secrets.json")

"$PY" "$REPO/bench/identity/compare.py" \
    --harness "$SHARED/bench/identity_bench.py" \
    --nubo-url "$NUBO_URL" --nubo-password "$NUBO_PASSWORD" --nubo-pid "$NUBO_PID" \
    --keystone-url "http://127.0.0.1:$KEYSTONE_PORT/v3" \
    --keystone-password "${KEYSTONE_ADMIN_PASSWORD:-anchor-admin}" --keystone-pid "$KEYSTONE_PID" \
    --hash "$HASH_ALGORITHM" --rounds "$HASH_ROUNDS" --client "$BENCH_CLIENT" \
    --concurrency "${BENCH_CONCURRENCY:-1,8,32}" --duration "${BENCH_DURATION:-10}" \
    --warmup "${BENCH_WARMUP:-2}" --repeats "${BENCH_REPEATS:-3}" \
    ${BENCH_OUTPUT:+--output "$BENCH_OUTPUT"}
