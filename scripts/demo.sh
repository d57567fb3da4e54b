#!/usr/bin/env bash
# Set up everything and run the main demo: the tutorial's workflows (several sites, elasticity,
# caching, checkpointing and restart, monitoring read back with pandas) in demo-run/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p demo-run
cd demo-run
../.venv/bin/python ../examples/tutorial_workflows.py "$@"
