"""Walltime strings as batch schedulers take them."""
from __future__ import annotations

import math


def wtime_to_minutes(time_string: str) -> int:
    """``"HH:MM:SS"`` (or ``"MM:SS"``, or ``"MM"``) → whole minutes, rounded up.

    Rounding up matters: a block asked for ``00:00:30`` must not get 0 minutes,
    which Slurm reads as "no limit" on some sites and as an error on others.
    """
    parts = str(time_string).strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"walltime {time_string!r} is not of the form HH:MM:SS")
    nums = [int(p) for p in parts]
    # Slurm's reading: "M", "M:S", "H:M:S".
    if len(nums) == 1:
        nums = [0, nums[0], 0]
    elif len(nums) == 2:
        nums = [0, *nums]
    hours, minutes, seconds = nums
    return int(math.ceil(hours * 60 + minutes + seconds / 60))
