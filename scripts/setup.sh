#!/usr/bin/env bash
# Set up everything Chervil needs on a fresh Debian machine with Python 3.10+:
# a virtual environment in .venv with Chervil (editable) and its test/demo/docs dependencies.
# With --services (and as root) it also installs and starts what the full test suite uses:
# a one-node Slurm, an sshd on loopback, headless Chromium. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "Chervil needs Python >= 3.10 (found: $("$PY" --version 2>&1))" >&2; exit 1
fi
if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
fi
[ -x .venv/bin/python ] || { echo "setup: creating .venv"; "$PY" -m venv .venv; }
echo "setup: installing Chervil and its dependencies into .venv (a minute or two the first time)"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[all,test,docs]' 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c 'import parsl, zmq, cloudpickle, sqlalchemy' || { echo "setup: Python dependencies failed to install" >&2; exit 1; }
# the linters CI runs (tests/compat/test_static_checks.py), from the `test` extra
for tool in ruff mypy lint-imports; do
    [ -x ".venv/bin/$tool" ] || { echo "setup: $tool is missing from .venv (the test extra installs it)" >&2; exit 1; }
done
echo "setup: .venv is ready (run scripts with .venv/bin/python, or: source .venv/bin/activate)"

if [ "${1:-}" = "--services" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        need=()
        for pkg in rsync iproute2 procps; do
            dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
        done
        if [ ${#need[@]} -gt 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
        fi
        for svc in .ci/slurm-up.sh .ci/sshd-up.sh .ci/browser-up.sh; do
            if [ -x "$svc" ] || [ -f "$svc" ]; then
                echo "setup: $svc"
                bash "$svc" || echo "setup: $svc failed; the tests that need it will be skipped with a reason" >&2
            fi
        done
    else
        echo "setup: not root (or no apt-get): Slurm, sshd and Chromium tests will be skipped" >&2
    fi
fi
