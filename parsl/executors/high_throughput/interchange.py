"""``interchange.py``: Parsl's stand-alone interchange process entry point.

Chervil runs the interchange as a thread inside the HighThroughputExecutor (measured to be
faster on small machines and it cannot be orphaned), so there is no separate process to
start.  The console script exists so that old launch scripts fail with a clear message.
"""
import sys


def main(argv=None) -> int:
    print("interchange.py: Chervil's HighThroughputExecutor runs its interchange inside the user "
          "process; there is nothing to start here. Remove interchange_launch_cmd from your config.",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
