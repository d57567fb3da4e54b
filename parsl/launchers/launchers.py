"""The launchers that need no parallel runtime: single node, plain, and a prefix wrapper."""
from __future__ import annotations

from parsl.launchers.base import Launcher


class SimpleLauncher(Launcher):
    """Run the command once, unchanged: the batch script itself is the launcher.

    For a provider whose job already lands on the right node, or an executor that starts its
    own processes (``MPIExecutor``).

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        return command


class WrappedLauncher(Launcher):
    """Put ``prepend`` in front of the command, e.g. to run the workers in a container.

    Args:
        prepend: the words to put first, e.g. ``"apptainer exec image.sif"``.
        debug: trace the launch script (``set -x``) into the job's output.
    """

    def __init__(self, prepend: str, debug: bool = True):
        super().__init__(debug=debug)
        self.prepend = prepend

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        if tasks_per_node * nodes_per_block > 1:
            import warnings
            warnings.warn("WrappedLauncher starts the command once; tasks_per_node and nodes_per_block "
                          "are ignored", stacklevel=2)
        return f"{self.prepend} {command}"

    def __repr__(self):
        return f"WrappedLauncher(prepend={self.prepend!r})"


class SingleNodeLauncher(Launcher):
    """Start ``tasks_per_node x nodes_per_block`` copies of the command on this node, in the
    background, and wait for them (the default launcher of every provider except Torque).

    The block fails (exit 1) when every copy failed, or any one with ``fail_on_any=True``.

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
        fail_on_any: fail the block as soon as one copy fails.
    """

    def __init__(self, debug: bool = True, fail_on_any: bool = False):
        super().__init__(debug=debug)
        self.fail_on_any = fail_on_any

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        trace = "set -x\n" if self.debug else ""
        return f"""{trace}export CORES=$(getconf _NPROCESSORS_ONLN)
chervil_copy() {{
{command}
}}
CHERVIL_PIDS=""
for CHERVIL_I in $(seq 1 {copies}); do
    chervil_copy "$CHERVIL_I" &
    CHERVIL_PIDS="$CHERVIL_PIDS $!"
done
CHERVIL_OK=0
CHERVIL_BAD=0
for CHERVIL_PID in $CHERVIL_PIDS; do
    if wait "$CHERVIL_PID"; then CHERVIL_OK=$((CHERVIL_OK+1)); else CHERVIL_BAD=$((CHERVIL_BAD+1)); fi
done
if [ "{1 if self.fail_on_any else 0}" = 1 ] && [ "$CHERVIL_BAD" -gt 0 ]; then exit 1; fi
if [ "$CHERVIL_OK" -eq 0 ] && [ "$CHERVIL_BAD" -gt 0 ]; then exit 1; fi
exit 0
"""

    def __repr__(self):
        return f"SingleNodeLauncher(debug={self.debug!r}, fail_on_any={self.fail_on_any!r})"
