#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 machine and
# runs it.  Debian's Open vSwitch is installed because the tests use the real
# tools as oracles; pyovs lives in .venv so its ovs-* commands never shadow
# the real ones in /usr/bin and /usr/sbin.
set -euo pipefail
cd "$(dirname "$0")/.."

debs="openvswitch-switch openvswitch-common python3-venv iproute2 iputils-ping ethtool iperf3 procps"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=""
    for p in $debs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq $missing >/dev/null
    fi
    # Debian's packaging may start the system's own OVS daemons; the tests
    # start their own in private directories and must not meet those.
    /usr/share/openvswitch/scripts/ovs-ctl stop >/dev/null 2>&1 || true
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -n 2 -q -p no:cacheprovider "$@"
