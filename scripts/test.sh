#!/usr/bin/env bash
# Set up everything (venv, packages, Slurm/sshd/Chromium when root) and run the whole test suite.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --services || exit 1
status=0
.venv/bin/python -m pytest tests -q -ra -p no:randomly "$@" || status=$?
for svc in .ci/slurm-down.sh .ci/sshd-down.sh; do
    [ -f "$svc" ] && bash "$svc" >/dev/null 2>&1 || true
done
exit $status
