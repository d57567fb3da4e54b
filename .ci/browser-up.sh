#!/usr/bin/env bash
# Idempotently install what the `browser` tests need: Debian's Chromium (no Playwright
# browser download, ever) and the Playwright Python package in the project venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if ! [ -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if ! "$VENV/bin/python" -c "import playwright.sync_api" 2>/dev/null; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$VENV/bin/pip" install -q playwright
fi
/usr/bin/chromium --version 2>/dev/null | grep -v "unexpected operator" || true
"$VENV/bin/pip" show playwright 2>/dev/null | sed -n 2p || true
