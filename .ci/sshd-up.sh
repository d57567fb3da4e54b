#!/usr/bin/env bash
# Start a private, key-only OpenSSH server on 127.0.0.1 for tests (rsync staging).
#
#   SSHD_DIR  (default /run/chervil-sshd)  keys, configs, pid and log live here only;
#             it must be root-owned and not world-writable (sshd StrictModes), hence /run.
#   SSHD_PORT (default 2222)
#
# Afterwards:  ssh -F $SSHD_DIR/ssh_config testhost CMD
#              RSYNC_RSH="ssh -F $SSHD_DIR/ssh_config" rsync testhost:/path dest
# Safe to run again (reloads). Stop with sshd-down.sh, which kills only the recorded pid.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
dir=${SSHD_DIR:-/run/chervil-sshd}
port=${SSHD_PORT:-2222}
say() { echo "[sshd-up] $*" >&2; }

[ "$(id -u)" = 0 ] || { say "needs root (sshd must own its host key)"; exit 1; }
if [ ! -x /usr/sbin/sshd ] || ! command -v rsync >/dev/null; then
    say "installing openssh-server and rsync"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        openssh-server openssh-client rsync >/dev/null
fi

install -d -m 0755 "$dir" /run/sshd   # /run/sshd: sshd's privilege-separation directory
[ -s "$dir/host_key" ]   || ssh-keygen -q -t ed25519 -N '' -C chervil-test-host -f "$dir/host_key"
[ -s "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C chervil-test-client -f "$dir/client_key"
install -m 0644 "$dir/client_key.pub" "$dir/authorized_keys"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"

cat > "$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes yes
UseDNS no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 50
Subsystem sftp internal-sftp
CONF

cat > "$dir/ssh_config" <<CONF
Host testhost
    HostName 127.0.0.1
    Port $port
    User root
    IdentityFile $dir/client_key
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
    LogLevel ERROR
CONF

alive() {
    local pid
    pid=$(cat "$dir/sshd.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = sshd ]
}

/usr/sbin/sshd -t -f "$dir/sshd_config"
if alive; then
    kill -HUP "$(cat "$dir/sshd.pid")"
else
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
fi
# wait (bounded) until a login works
for _ in $(seq 100); do
    ssh -F "$dir/ssh_config" testhost true 2>/dev/null && { say "up on 127.0.0.1:$port (pid $(cat "$dir/sshd.pid"))"; exit 0; }
    sleep 0.1
done
say "cannot log in; sshd log:"; tail -20 "$dir/sshd.log" >&2
exit 1
