"""Task states with Parsl's names and values, at Parsl's import path."""
from parsl._base.task_states import FINAL_FAILURE_STATES, FINAL_STATES, States  # noqa: F401

__all__ = ["States", "FINAL_STATES", "FINAL_FAILURE_STATES"]
