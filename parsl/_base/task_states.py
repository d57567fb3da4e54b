"""Task states with Parsl's names and values (re-exported as ``parsl.dataflow.states``)."""
from enum import IntEnum


class States(IntEnum):
    unsched = -1  # tutorial-era state name; never entered, kept so old code imports work
    pending = 0
    running = 2
    exec_done = 3
    failed = 4
    dep_fail = 5
    launched = 7
    fail_retryable = 8
    memo_done = 9
    joining = 10
    running_ended = 11

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


# The tutorial era called exec_done "done"; alias it so `States.done` keeps working.
States.done = States.exec_done  # type: ignore[attr-defined]

FINAL_STATES = frozenset({States.exec_done, States.memo_done, States.failed, States.dep_fail})
FINAL_FAILURE_STATES = frozenset({States.failed, States.dep_fail})

States.__module__ = "parsl.dataflow.states"
