"""Pure decisions about how many workers a node runs and which CPUs/devices each gets.

No processes, no I/O: these are functions of their inputs, tested directly.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

AFFINITY_MODES = ("none", "block", "alternating", "block-reverse")


def accelerator_names(available_accelerators) -> List[str]:
    """An int n means devices "0".."n-1"; a sequence is used as given (as strings)."""
    if available_accelerators is None:
        return []
    if isinstance(available_accelerators, int):
        if available_accelerators < 0:
            raise ValueError("available_accelerators must be >= 0")
        return [str(i) for i in range(available_accelerators)]
    if isinstance(available_accelerators, str):
        return [a for a in available_accelerators.split(",") if a] if "," in available_accelerators \
            else [available_accelerators]
    return [str(a) for a in available_accelerators]


def workers_per_node(*, max_workers_per_node: float = math.inf, cores: Optional[float] = None,
                     cores_per_worker: float = 1.0, mem_gb: Optional[float] = None,
                     mem_per_worker: Optional[float] = None, accelerators: Sequence[str] = ()) -> int:
    """min over the known limits; an unbounded answer means 1 (Parsl's rule)."""
    limits = [max_workers_per_node if max_workers_per_node is not None else math.inf]
    if cores is not None and cores_per_worker:
        limits.append(math.floor(cores / cores_per_worker))
    if mem_gb is not None and mem_per_worker:
        limits.append(math.floor(mem_gb / mem_per_worker))
    if accelerators:
        limits.append(len(accelerators))
    n = min(limits)
    if n == math.inf:
        return 1
    return max(1, int(n))


def validate_cpu_affinity(spec: str) -> None:
    if spec in AFFINITY_MODES:
        return
    if isinstance(spec, str) and spec.startswith("list:"):
        parse_affinity_list(spec)
        return
    raise ValueError(f"cpu_affinity={spec!r} is not valid: use one of {', '.join(AFFINITY_MODES)} "
                     "or 'list:<cores of worker 0>:<cores of worker 1>:...' (e.g. 'list:0-1:2,3')")


def parse_affinity_list(spec: str) -> List[List[int]]:
    groups: List[List[int]] = []
    for part in spec[len("list:"):].split(":"):
        cores: List[int] = []
        for item in part.split(","):
            item = item.strip()
            if not item:
                continue
            if "-" in item:
                lo, hi = item.split("-", 1)
                cores.extend(range(int(lo), int(hi) + 1))
            else:
                cores.append(int(item))
        if not cores:
            raise ValueError(f"cpu_affinity {spec!r}: worker group {len(groups)} names no cores")
        groups.append(cores)
    return groups


def cpu_affinity(spec: str, worker_count: int, available_cpus: Sequence[int],
                 cores_per_worker: float = 1.0) -> Dict[int, Optional[List[int]]]:
    """rank -> list of CPUs (None = leave the inherited affinity alone)."""
    if spec == "none":
        return {r: None for r in range(worker_count)}
    if spec.startswith("list:"):
        groups = parse_affinity_list(spec)
        if len(groups) < worker_count:
            raise ValueError(f"cpu_affinity {spec!r} lists {len(groups)} groups for {worker_count} workers")
        return {r: groups[r] for r in range(worker_count)}
    cpus = sorted(available_cpus)
    per = max(1, math.floor(cores_per_worker))
    if spec == "block":
        return {r: cpus[(r * per) % len(cpus):][:per] or cpus[:per] for r in range(worker_count)}
    if spec == "block-reverse":
        rev = list(reversed(cpus))
        return {r: sorted(rev[(r * per) % len(rev):][:per] or rev[:per]) for r in range(worker_count)}
    if spec == "alternating":
        return {r: [cpus[(r + k * worker_count) % len(cpus)] for k in range(per)] for r in range(worker_count)}
    raise ValueError(f"unknown cpu_affinity {spec!r}")


def affinity_env(cores: Optional[List[int]]) -> Dict[str, str]:
    if not cores:
        return {}
    cs = ",".join(str(c) for c in cores)
    return {"OMP_NUM_THREADS": str(len(cores)), "GOMP_CPU_AFFINITY": cs,
            "KMP_AFFINITY": f"explicit,proclist=[{cs}]"}


def accelerator_env(device: Optional[str]) -> Dict[str, str]:
    if device is None:
        return {}
    return {"CUDA_VISIBLE_DEVICES": device, "ROCR_VISIBLE_DEVICES": device, "ZE_AFFINITY_MASK": device}
