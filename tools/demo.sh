#!/usr/bin/env bash
# The demo: the HA appliance on the multi-host lab (docs/lab.md, docs/deployment.md).
#   tools/demo.sh        lab up, build the .deb, deploy with ansible/site.yml, start 3
#                        simulated controllers on cmon1, print how to use it (idempotent)
#   tools/demo.sh stop   take the lab down (everything the demo started lives in it)
# Needs root (the lab does). LAB_DIR / LAB_CACHE as for lab/labctl.py.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BIN=$REPO/.venv/bin
LAB_DIR=${LAB_DIR:-/var/lib/ccmgr-lab}
WHEELS=$REPO/build/cmonsim-wheelhouse
export ANSIBLE_CONFIG=$REPO/ansible/ansible.cfg ANSIBLE_FORCE_COLOR=0 PATH="$BIN:$PATH"

say() { printf '==> %s\n' "$*"; }
# The newest file matching a glob pattern in a directory ("" when none, or no directory:
# a fresh clone has no dist/, and under pipefail find's complaint would end the demo).
newest() { [ -d "$1" ] || return 0; find "$1" -maxdepth 1 -name "$2" -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -1 | cut -d' ' -f2-; }

if [ "${1:-}" = "stop" ]; then
    say "taking the lab down"
    python3 lab/labctl.py down
    exit 0
fi

say "bringing the lab up (lb1, lb2, ccm1, ccm2, cmon1)"
"$BIN/python" lab/labctl.py up

deb=$(newest dist 'ccmgr_*.deb')
if [ -z "$deb" ] || [ -n "$(find app/ccmgr app/ui packaging systemd -newer "$deb" -type f -not -path '*/node_modules/*' -print -quit)" ]; then
    say "building the .deb (make deb)"
    make --no-print-directory deb
    deb=$(newest dist 'ccmgr_*.deb')
fi
say "package: $deb"

# cmonsim and its dependencies as wheels for the lab hosts' Python 3.11 (they are offline).
if ! ls "$WHEELS"/cmonsim-*.whl >/dev/null 2>&1 || \
        [ -n "$(find app/sim/cmonsim -newer "$(newest "$WHEELS" 'cmonsim-*.whl')" -type f -print -quit)" ]; then
    say "building the cmonsim wheelhouse ($WHEELS)"
    rm -rf "$WHEELS" && mkdir -p "$WHEELS"
    "$BIN/python" -m pip wheel --quiet --no-deps -w "$WHEELS" app/sim
    pins=$(grep -E '^(cryptography|cffi|pycparser)==' requirements/runtime.txt)
    # shellcheck disable=SC2086  # one argument per pin
    "$BIN/python" -m pip download --quiet --only-binary=:all: --no-deps -d "$WHEELS" \
        --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform any $pins
fi

INV=$LAB_DIR/inventory.yml
say "starting the simulated controllers on cmon1 (ansible/cmonsim.yml)"
"$BIN/ansible-playbook" -i "$INV" ansible/cmonsim.yml -e "cmonsim_wheelhouse=$WHEELS" \
    -e "site_ccmgr_deb=$REPO/$deb"
say "deploying the site (ansible/site.yml); the controllers are seeded from ansible/vars/lab.yml"
"$BIN/ansible-playbook" -i "$INV" ansible/site.yml -e "site_ccmgr_deb=$REPO/$deb"

# The service address: the balancers' virtual (VRRP) address, from the lab's inventory.
VIP=$(python3 -c 'import sys; sys.path.insert(0, "lab"); import labctl; print(labctl.VIRTUAL_ADDRESS)')
ACTIVE=$(for h in lb1 lb2; do
    ssh -F "$LAB_DIR/ssh_config" "$h" "ip -o -4 addr show | grep -q ' $VIP/' && hostname" || true
done)
CA=$LAB_DIR/pki/ca.crt
PW=$LAB_DIR/secrets/ccmgr-admin-password
cat <<EOT

ccmgr HA demo is running: lb1 + lb2 (HAProxy, keepalived holding $VIP; now on
${ACTIVE:-no balancer}) -> ccm1 (primary), ccm2 (secondary); 3 simulated controllers on cmon1.

  URL:             https://$VIP/   (CA certificate: $CA)
  dashboard:       https://$VIP/   in a browser, user admin (docs/ui.md)
  admin password:  $PW   (user admin)
  stats page:      ssh -F $LAB_DIR/ssh_config -L 9000:127.0.0.1:9000 lb1   (or lb2)
                   then http://127.0.0.1:9000/haproxy_stats
                   (user admin: $LAB_DIR/secrets/haproxy-stats-admin-password,
                    read-only user monitor: $LAB_DIR/secrets/haproxy-stats-monitor-password)

Log in through the balancer and look at the unified view:
  curl --cacert $CA -c /tmp/ccmgr.jar -XPOST https://$VIP/proxy/auth/login \\
       -d "{\"username\":\"admin\",\"password\":\"\$(cat $PW)\"}"
  curl --cacert $CA -b /tmp/ccmgr.jar https://$VIP/proxy/controllers/status

A shell on a host: make lab-ssh HOST=ccm1      Stop it all: make demo-stop
EOT
