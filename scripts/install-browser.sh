#!/usr/bin/env sh
# Install Debian's chromium for the dashboard's browser tests (tests/browser/), never
# Playwright's own download. Does nothing when /usr/bin/chromium is already there.
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
sh "$(dirname "$0")/apt-install.sh" chromium
/usr/bin/chromium --version
