#!/usr/bin/env bash
# Stop the Slurm daemons that .ci/slurm-up.sh started (and only those: each one is
# stopped only when its pid file in $PIDDIR names a live process of the right name).
# Jobs still queued are cancelled first so that no job process outlives slurmd.
set -uo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
PIDDIR=${SLURM_PIDDIR:-/run/slurm-local}
say() { echo "[slurm-down] $*" >&2; }

stop() {  # stop NAME: SIGTERM, wait up to 15 s, then SIGKILL
    local pf="$PIDDIR/$1.pid" pid
    [ -s "$pf" ] || { say "$1: not started by us, left alone"; return 0; }
    pid=$(cat "$pf")
    if [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]; then
        kill -TERM "$pid"
        for _ in $(seq 150); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
        [ -d "/proc/$pid" ] && { say "$1: SIGKILL after 15 s"; kill -KILL "$pid"; }
        say "$1: stopped (pid $pid)"
    fi
    rm -f "$pf"
}

if [ -s "$PIDDIR/slurmctld.pid" ] && [ -d "/proc/$(cat "$PIDDIR/slurmctld.pid")" ]; then
    jobs=$(squeue -h -o '%i' 2>/dev/null | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
        say "cancelling $jobs"
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null || true
        for _ in $(seq 100); do [ -z "$(squeue -h -t R,CG,PD -o '%i' 2>/dev/null)" ] && break; sleep 0.1; done
    fi
fi
stop slurmd
stop slurmctld
stop munged
