#!/usr/bin/env bash
# Tempest's API tests of one service against a fresh `nubo up --foreground`.
#
# usage: tests/conformance/run.sh [SERVICE] [OUT_DIR]
#        SERVICE: identity (default), image, compute, placement, network
#
# Starts nubo on a free port with a temporary state dir and Keystone's
# security-compliance options on, runs ../shared/conformance/run_tempest.sh with
# the service's selection, then holds the result to tests/conformance/SERVICE.txt:
# every test listed there must pass (exit 1 naming each regression); tests that
# pass but are not listed yet are printed so the list can grow.
#
# Environment: TEMPEST_VENV (default $HOME/.cache/anchors/tempest-venv), NUBO_PYTHON
# (default .venv/bin/python), NUBO_LOG_LEVEL (default WARNING), KEEP_STATE=1 to
# keep the state dir, CONFORMANCE_REGEX to run only part of the selection, and every
# knob of run_tempest.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/conformance
RUN_TEMPEST=$ROOT/../shared/conformance/run_tempest.sh
SERVICE=${1:-identity}
case "$SERVICE" in
    identity)  REGEX='^tempest\.api\.identity\.(admin\.)?v3\.' ;;
    image)     REGEX='^tempest\.api\.image\.' ;;
    compute)   REGEX='^tempest\.(serial_tests\.)?api\.compute\.' ;;
    placement) REGEX='^tempest\.api\.placement\.' ;;
    network)   REGEX='^tempest\.api\.network\.' ;;
    *) echo "unknown service $SERVICE (identity, image, compute, placement, network)" >&2; exit 2 ;;
esac
# a part of the service's selection, to look at some tests quickly: every listed test
# that is not run then shows as a regression, so use it for NEW PASS lines only
REGEX=${CONFORMANCE_REGEX:-$REGEX}
EXPECTED=$HERE/$SERVICE.txt
NUBO_PYTHON=${NUBO_PYTHON:-$ROOT/.venv/bin/python}
export TEMPEST_VENV=${TEMPEST_VENV:-$HOME/.cache/anchors/tempest-venv}
OUT_DIR=${2:-$(mktemp -d "${TMPDIR:-/tmp}/nubo-conformance.XXXXXX")}
mkdir -p "$OUT_DIR"

[ -f "$RUN_TEMPEST" ] || {
    echo "missing $RUN_TEMPEST (shared/ must sit beside the repo)" >&2; exit 2; }

# ---- tempest
# (run_tempest.sh's discovery also needs keystoneauth1, which tempest does not pull in)
if ! "$TEMPEST_VENV/bin/python" -c 'import tempest, keystoneauth1' 2>/dev/null; then
    echo "[conformance] installing tempest into $TEMPEST_VENV" >&2
    [ -x "$TEMPEST_VENV/bin/pip" ] || python3 -m venv "$TEMPEST_VENV"
    "$TEMPEST_VENV/bin/pip" install -q tempest keystoneauth1
fi

# ---- nubo
STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nubo-conformance-state.XXXXXX")
PORT=$("$NUBO_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NUBO_PID=""
cleanup() {
    if [ -n "$NUBO_PID" ] && kill -0 "$NUBO_PID" 2>/dev/null; then
        kill "$NUBO_PID" 2>/dev/null || true
        wait "$NUBO_PID" 2>/dev/null || true
    fi
    if [ "${KEEP_STATE:-0}" = 1 ]; then
        echo "[conformance] state kept in $STATE_DIR" >&2
    else
        rm -rf "$STATE_DIR"
    fi
}
trap cleanup EXIT INT TERM

export NUBO_IDENTITY__LOCKOUT_FAILURE_ATTEMPTS=2
export NUBO_IDENTITY__LOCKOUT_DURATION=5
export NUBO_IDENTITY__UNIQUE_LAST_PASSWORD_COUNT=2
export NUBO_IDENTITY__MINIMUM_PASSWORD_AGE=0
export NUBO_CORE__LOG_LEVEL=${NUBO_LOG_LEVEL:-WARNING}
# compute: two fake hypervisors (multi-host tests, reschedules)
export NUBO_COMPUTE__FAKE_HOSTS=${NUBO_COMPUTE__FAKE_HOSTS:-2}
(cd "$ROOT" && exec "$NUBO_PYTHON" -m nubo.cli.main --state-dir "$STATE_DIR" up --foreground \
    --port "$PORT") > "$OUT_DIR/nubo.log" 2>&1 &
NUBO_PID=$!

AUTH_URL=http://127.0.0.1:$PORT/identity
up() { # nubo answers and has written its pid file (bootstrap done)
    [ -f "$STATE_DIR/nubo.pid" ] && "$NUBO_PYTHON" -c \
        'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "$AUTH_URL/v3" 2>/dev/null
}
for _ in $(seq 300); do
    kill -0 "$NUBO_PID" 2>/dev/null || { echo "nubo exited, see $OUT_DIR/nubo.log" >&2; exit 2; }
    up && break
    sleep 0.2
done
up || { echo "nubo did not start, see $OUT_DIR/nubo.log" >&2; exit 2; }
ADMIN_PASSWORD=$("$NUBO_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin_password"])' \
    "$STATE_DIR/secrets.json")
echo "[conformance] nubo at $AUTH_URL (state $STATE_DIR), results in $OUT_DIR" >&2

# compute: two small public raw images to boot (there is no cirros to download)
if [ "$SERVICE" = compute ] && [ -z "${TEMPEST_IMAGE_REF:-}" ]; then
    read -r TEMPEST_IMAGE_REF TEMPEST_IMAGE_REF_ALT < <(OS_CLIENT_CONFIG_FILE="$STATE_DIR/clouds.yaml" \
        "$NUBO_PYTHON" -c '
import io, openstack
conn = openstack.connect(cloud="nubo-admin")
ids = []
for name in ("cirros-raw", "cirros-raw-alt"):
    image = conn.image.create_image(name=name, disk_format="raw", container_format="bare",
                                    visibility="public", data=io.BytesIO(bytes(1 << 20)))
    ids.append(conn.image.wait_for_status(image, "active", wait=60).id)
print(*ids)')
    export TEMPEST_IMAGE_REF TEMPEST_IMAGE_REF_ALT
fi

# network, compute: the external network Tempest takes as public_network_id (DevStack's
# "public", 172.24.4.0/24), made through the API until `nubo up` makes its own
if [ "$SERVICE" = network ] || [ "$SERVICE" = compute ]; then
    OS_CLIENT_CONFIG_FILE="$STATE_DIR/clouds.yaml" "$NUBO_PYTHON" -c '
import openstack
conn = openstack.connect(cloud="nubo-admin")
if not list(conn.network.networks(is_router_external=True)):
    net = conn.network.create_network(name="public", is_router_external=True)
    conn.network.create_subnet(network_id=net.id, name="public-subnet", ip_version=4,
                               cidr="172.24.4.0/24", gateway_ip="172.24.4.1",
                               enable_dhcp=False)' || echo "[conformance] no public network" >&2
fi

# compute: what DevStack gives `networks: auto` (Tempest's AutoAllocateNetworkTest): the
# external network as the default one, and a default IPv4 subnet pool
if [ "$SERVICE" = compute ]; then
    OS_CLIENT_CONFIG_FILE="$STATE_DIR/clouds.yaml" "$NUBO_PYTHON" -c '
import openstack
conn = openstack.connect(cloud="nubo-admin")
public = next(iter(conn.network.networks(is_router_external=True)))
conn.network.update_network(public, is_default=True)
conn.network.create_subnet_pool(name="shared-default-subnetpool-v4", prefixes=["10.0.0.0/16"],
                                default_prefix_length=26, is_default=True, shared=True)' \
        || echo "[conformance] no auto-allocation defaults" >&2
fi

# ---- tempest run
OVERRIDES=$OUT_DIR/tempest-overrides.conf
cat > "$OVERRIDES" <<'EOF'
[identity-feature-enabled]
security_compliance = true
[network-feature-enabled]
ipv6 = true
ipv6_subnet_attributes = true
EOF
set +e
# (stestr runs the tests with $PYTHON when it is set: keep ours out of its way)
env -u PYTHON TEMPEST_CONF_OVERRIDES="$OVERRIDES" bash "$RUN_TEMPEST" "$AUTH_URL" "$ADMIN_PASSWORD" "$REGEX" \
    "$OUT_DIR/tempest"
RC=$?
set -e
if [ "$RC" -ge 2 ]; then
    echo "[conformance] harness error (rc=$RC)" >&2
    exit 2
fi

# ---- compare with the list we hold ourselves to
"$NUBO_PYTHON" - "$OUT_DIR/tempest/results.csv" "$EXPECTED" <<'EOF'
import csv
import sys
from pathlib import Path

results, expected_path = sys.argv[1], Path(sys.argv[2])
with open(results, newline="") as f:
    rows = list(csv.DictReader(f))
status = {r["test_id"].split("[")[0]: r["status"] for r in rows}
passed = {t for t, s in status.items() if s == "passed"}
expected = set()
if expected_path.exists():
    expected = {line.strip() for line in expected_path.read_text().splitlines()
                if line.strip() and not line.startswith("#")}
regressions = sorted(expected - passed)
new = sorted(passed - expected)
for t in new:
    print(f"NEW PASS   {t}")
for t in regressions:
    print(f"REGRESSION {t} ({status.get(t, 'not run')})")
print(f"[conformance] {len(passed)} passed; {len(expected)} expected; "
      f"{len(new)} newly passing; {len(regressions)} regressions")
sys.exit(1 if regressions else 0)
EOF
