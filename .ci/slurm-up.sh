#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine for Chervil's `slurm` tests.
#
# Idempotent: installs munge/slurmctld/slurmd/slurm-client from Debian when missing,
# writes /etc/slurm/slurm.conf (only if absent or written by us: it carries MARK),
# starts the daemons that are not running yet, and records the pid of each daemon
# WE started in $PIDDIR so that slurm-down.sh stops only those.  Returns when a
# batch job has really run (the scheduler's first pass after a cold start takes
# a few seconds, and tests must not pay for that inside their own timeout).
#
# Needs root.  Knobs: SLURM_PIDDIR (/run/slurm-local), SLURM_PARTITION (debug),
# SLURM_UP_TIMEOUT (60 s per daemon), SLURM_UP_PROBE (1).
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

PIDDIR=${SLURM_PIDDIR:-/run/slurm-local}
PARTITION=${SLURM_PARTITION:-debug}
TIMEOUT=${SLURM_UP_TIMEOUT:-60}
CONF=/etc/slurm/slurm.conf
MARK="# chervil .ci/slurm-up.sh: local one-node test cluster"

say() { echo "[slurm-up] $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (it installs packages and starts daemons)"

ours_alive() {  # ours_alive PIDFILE COMM: the pid file names a live process called COMM
    [ -s "$1" ] || return 1
    local pid; pid=$(cat "$1")
    [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}
until_ok() {  # until_ok SECONDS CMD...: retry CMD every 0.1 s
    local tries=$(( $1 * 10 )); shift
    while [ "$tries" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; tries=$((tries - 1)); done
    return 1
}

# --- packages -----------------------------------------------------------------
missing=()
for pair in munged:munge slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$PIDDIR"

# --- munge ----------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
        || head -c 1024 /dev/urandom > /etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
munge_answers() { munge -n | unmunge; }
if ! munge_answers >/dev/null 2>&1; then
    rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    until_ok 10 munge_answers || die "munged did not answer within 10 s"
    cp /run/munge/munged.pid "$PIDDIR/munged.pid"
fi

# --- slurm.conf -----------------------------------------------------------------
HOST=$(hostname -s)
HARDWARE=$(slurmd -C | head -n1 | sed -e 's/^NodeName=[^ ]* //')
changed=0
if [ ! -e "$CONF" ] || grep -qxF "$MARK" "$CONF"; then
    new=$(mktemp)
    cat > "$new" <<CONF
$MARK
ClusterName=chervil
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$PIDDIR/slurmctld.pid
SlurmdPidFile=$PIDDIR/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
# without this every sbatch waits ~3 s for the scheduler
SchedulerParameters=batch_sched_delay=0
# one job per core: two one-core blocks run side by side on 2 cores
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=5
MinJobAge=300
OverTimeLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
Waittime=0
NodeName=$HOST NodeAddr=127.0.0.1 $HARDWARE State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    if ! cmp -s "$new" "$CONF"; then
        install -D -m 0644 "$new" "$CONF"; changed=1; say "wrote $CONF"
    fi
    rm -f "$new"
else
    say "$CONF was not written by us; using it unchanged"
fi
install -d -m 0755 /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

# --- daemons --------------------------------------------------------------------
cold=0
if ours_alive "$PIDDIR/slurmctld.pid" slurmctld; then
    [ "$changed" = 1 ] && { scontrol reconfigure || true; }
else
    say "starting slurmctld"; /usr/sbin/slurmctld; cold=1
fi
ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
until_ok "$TIMEOUT" ctld_up || { tail -20 /var/log/slurm/slurmctld.log >&2; die "slurmctld did not come up"; }
if ! ours_alive "$PIDDIR/slurmd.pid" slurmd; then
    say "starting slurmd"; /usr/sbin/slurmd
fi

state=""
for _ in $(seq $((TIMEOUT * 10))); do
    state=$(sinfo -h -n "$HOST" -o '%T' 2>/dev/null | head -n1)
    case "$state" in
        idle|mixed|allocated|completing) break ;;
        down*|drain*|fail*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.1
done
case "$state" in
    idle|mixed|allocated|completing) ;;
    *) tail -20 /var/log/slurm/slurmd.log >&2; die "node $HOST is not usable (state '$state')" ;;
esac

# --- prove a job runs -----------------------------------------------------------
if [ "${SLURM_UP_PROBE:-1}" = 1 ]; then
    if [ "$cold" = 1 ]; then
        job=$(sbatch --parsable -N1 -n1 -t 1 -J chervil-slurm-up -o /dev/null --wrap true)
        finished() { [ "$(squeue -h -t all -j "$job" -o '%T' 2>/dev/null)" = COMPLETED ]; }
        until_ok "$TIMEOUT" finished || { tail -20 /var/log/slurm/slurmctld.log >&2; die "probe job $job never ran"; }
    else
        timeout "$TIMEOUT" srun -N1 -n1 -t 1 -J chervil-slurm-up true || die "probe job did not run"
    fi
fi
say "up: node $HOST is $(sinfo -h -n "$HOST" -o '%T' | head -n1)"
