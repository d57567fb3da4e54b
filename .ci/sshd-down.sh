#!/usr/bin/env bash
# Stop the test sshd started by sshd-up.sh: only the pid recorded in $SSHD_DIR/sshd.pid.
set -uo pipefail
dir=${SSHD_DIR:-/run/chervil-sshd}
pid=$(cat "$dir/sshd.pid" 2>/dev/null || true)
if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = sshd ]; then
    kill -TERM "$pid"
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    echo "[sshd-down] stopped pid $pid" >&2
fi
rm -f "$dir/sshd.pid"
