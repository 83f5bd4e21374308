#!/usr/bin/env sh
# Install Debian packages by name (as root, or through sudo), for the scripts that give the test
# suite its system tools. Says so and does nothing where there is no apt-get.
set -eu
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-install: no apt-get here; install by hand: $*" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
