#!/usr/bin/env bash
# Set up everything and run the main demo: the tutorial's workflows (several sites, elasticity,
# caching, checkpointing and restart, retries, monitoring read back with pandas), every one
# of them recorded in one monitoring database. Each invocation runs in a fresh directory,
# demo-run/<date>-<time>/, so every run shows the same thing. Extra arguments go to
# examples/tutorial_workflows.py (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

echo "[1/2] Setting up .venv (Chervil and its dependencies; about a minute the first time) ..."
start=$SECONDS
bash scripts/setup.sh > "${TMPDIR:-/tmp}/chervil-demo-setup.$$.log" 2>&1 &
setup_pid=$!
while kill -0 "$setup_pid" 2>/dev/null; do
    sleep 5
    kill -0 "$setup_pid" 2>/dev/null && echo "      still installing ... $((SECONDS - start)) s"
done
if ! wait "$setup_pid"; then
    cat "${TMPDIR:-/tmp}/chervil-demo-setup.$$.log" >&2
    echo "setup failed (output above)" >&2
    exit 1
fi
rm -f "${TMPDIR:-/tmp}/chervil-demo-setup.$$.log"
echo "      ready in $((SECONDS - start)) s: $root/.venv"

run_dir="$root/demo-run/$(date +%Y%m%d-%H%M%S)"
[ -e "$run_dir" ] && run_dir="$run_dir-$$"
mkdir -p "$run_dir"
echo "[2/2] Running the tutorial's workflows in $run_dir"
cd "$run_dir"
"$root/.venv/bin/python" "$root/examples/tutorial_workflows.py" "$@"
