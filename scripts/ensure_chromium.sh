#!/bin/sh
# Make sure the browser tests (tests/browser) find headless Chromium: Debian's `chromium` package
# at /usr/bin/chromium (or $BILLREADY_CHROMIUM). When it is missing, install it with apt-get (as
# root, or with sudo when that needs no password); when that is not possible, say how to enable
# the tests and carry on: they then skip with the same hint. Playwright's own browser download is
# not used. Used by `make test-main`.
set -eu

CHROMIUM="${BILLREADY_CHROMIUM:-/usr/bin/chromium}"
HOW="install Debian's chromium (sudo apt-get install -y chromium) and run make test again"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: no $CHROMIUM and no apt-get: the browser tests will be skipped; $HOW (or set BILLREADY_CHROMIUM)" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "note: no $CHROMIUM and no root or password-less sudo: the browser tests will be skipped; $HOW" >&2
    exit 0
fi
echo "installing chromium for the browser tests (apt-get install chromium)"
if $SUDO apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    "$CHROMIUM" --version 2>/dev/null || true
else
    echo "warning: apt-get could not install chromium: the browser tests will be skipped; $HOW" >&2
fi
exit 0
