#!/usr/bin/env bash
# The local demo: two simulated controllers and one ccmgr daemon on loopback.
#   tools/demo.sh        start (idempotent) and print how to use it
#   tools/demo.sh stop   stop everything it started
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=${DEMO_DIR:-$PWD/demo}
BIN=$PWD/.venv/bin
PORT=${DEMO_PORT:-19051}
SIM_BASE=${DEMO_SIM_PORT:-19501}
export CCMGR_BASEDIR=$DEMO/basedir

stop_pid() {  # stop a process we started (by its recorded PID), wait, then force
    local file=$1
    [ -f "$file" ] || return 0
    local pid; pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$file"
}

if [ "${1:-}" = "stop" ]; then
    stop_pid "$DEMO/ccmgr.pid"
    stop_pid "$DEMO/cmonsim.pid"
    echo "demo stopped (state kept in $DEMO; remove it for a fresh start)"
    exit 0
fi

mkdir -p "$CCMGR_BASEDIR"
chmod 0750 "$CCMGR_BASEDIR"

if ! { [ -f "$DEMO/cmonsim.pid" ] && kill -0 "$(cat "$DEMO/cmonsim.pid")" 2>/dev/null; }; then
    echo "==> starting 2 simulated controllers on 127.0.0.1:$SIM_BASE-$((SIM_BASE + 1))"
    "$BIN/cmonsim" --controllers 2 --clusters 5 --hosts 3 --seed 1 --bind 127.0.0.1 \
        --base-port "$SIM_BASE" >"$DEMO/cmonsim.log" 2>&1 &
    echo $! >"$DEMO/cmonsim.pid"
fi

if [ ! -f "$CCMGR_BASEDIR/ccmgr.yaml" ]; then
    printf 'port: %s\nbind_address: 127.0.0.1\nnode_name: demo\n' "$PORT" \
        >"$CCMGR_BASEDIR/ccmgr.yaml"
    chmod 0600 "$CCMGR_BASEDIR/ccmgr.yaml"
fi

if ! { [ -f "$DEMO/ccmgr.pid" ] && kill -0 "$(cat "$DEMO/ccmgr.pid")" 2>/dev/null; }; then
    echo "==> starting ccmgr on https://127.0.0.1:$PORT"
    "$BIN/ccmgr" --basedir "$CCMGR_BASEDIR" >"$DEMO/ccmgr.out" 2>&1 &
    echo $! >"$DEMO/ccmgr.pid"
fi

echo "==> waiting for ccmgr to answer /health"
for _ in $(seq 100); do
    curl -sfk "https://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sfk "https://127.0.0.1:$PORT/health" >/dev/null || {
    echo "ccmgr did not start; see $DEMO/ccmgr.out" >&2; exit 1; }

for i in 1 2; do
    url="127.0.0.1:$((SIM_BASE + i - 1))"
    if ! "$BIN/ccmgradm" listcontrollers 2>/dev/null | grep -q "^\* $url "; then
        echo "==> registering simulated controller cmon-0$i ($url)"
        echo "pw-cmon-0$i" | "$BIN/ccmgradm" addcontroller -u ccadmin --password-stdin \
            -n "cmon-0$i" "$url" >/dev/null
    fi
done

cat <<EOT

ccmgr demo is running.
  URL:             https://127.0.0.1:$PORT
  admin password:  $CCMGR_BASEDIR/initial-admin-password
  controllers:     .venv/bin/ccmgradm listcontrollers   (CCMGR_BASEDIR=$CCMGR_BASEDIR)

Try it with curl:
  curl -k -c /tmp/ccmgr.jar -XPOST https://127.0.0.1:$PORT/proxy/auth/login \\
       -d "{\"username\":\"admin\",\"password\":\"\$(cat $CCMGR_BASEDIR/initial-admin-password)\"}"
  curl -k -b /tmp/ccmgr.jar -XPOST https://127.0.0.1:$PORT/proxy/auth/check -d '{}'

Stop it with: make demo-stop
EOT
