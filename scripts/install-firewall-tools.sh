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
sh "$(dirname "$0")/apt-install.sh" nftables iptables
nft --version
