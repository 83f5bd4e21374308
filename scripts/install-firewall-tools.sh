#!/usr/bin/env sh
# Install Debian's nftables (nft and libnftables) and iptables so the response actions' real
# kernel round trips (tests/respond: block-ip through libnftables, the nft program and iptables,
# each in a network namespace the test makes) run instead of being skipped. Does nothing when
# all three are there.
set -eu
have_lib() {
    ldconfig -p 2>/dev/null | grep -q "libnftables.so.1"
}
if command -v nft >/dev/null 2>&1 && command -v iptables >/dev/null 2>&1 && have_lib; then
    echo "firewall tools present: $(nft --version)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-firewall-tools: no apt-get here; install nftables and iptables by hand" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nftables iptables
nft --version
