"""The scaling policy: a pure function of a snapshot of one executor and a clock.

Nothing here touches threads, sockets, providers or the real clock.  The shell
(``parsl._scaling.poller``) takes an ``ExecutorSnapshot`` of each block executor,
calls ``decide`` with the memory it kept from the previous pass and the current
time, applies the returned ``Decision`` and keeps the returned memory.

Symbols follow Parsl's strategy (spec §6): T = outstanding tasks, W = workers per
node, N = nodes per block, p = parallelism, B = active (PENDING + RUNNING) blocks,
S = B·W·N slots.

Differences from Parsl, on purpose (each fixes a reported problem):
- ``min_blocks`` is enforced: below it, blocks are added (Parsl#3071).
- The first pass tops up to ``init_blocks`` counting blocks already present, because
  HTEX submits ``init_blocks`` itself in ``start()`` (so they are never doubled).
- Scale-in never goes below ``min_blocks`` and never asks for more blocks than exist.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Optional

STRATEGIES = ("none", "simple", "htex_auto_scale")


@dataclass(frozen=True)
class ExecutorSnapshot:
    """What the policy needs to know about one block executor at one instant."""

    label: str
    outstanding: int            # T: tasks submitted and not yet returned
    active_blocks: int          # B: blocks PENDING or RUNNING
    workers_per_node: float     # W (may be inf when unbounded: treated as 1)
    nodes_per_block: int        # N
    parallelism: float          # p, in [0, 1]
    init_blocks: int
    min_blocks: int
    max_blocks: int
    #: True when the executor can pick idle blocks itself (HTEX's
    #: ``scale_in_facade(n, max_idletime=)``): needed by 'htex_auto_scale'.
    can_scale_in_idle: bool = False


@dataclass(frozen=True)
class PolicyMemory:
    """What the policy remembers about one executor between passes."""

    first_pass_done: bool = False
    #: When the executor was first seen with no outstanding tasks (None: busy).
    idle_since: Optional[float] = None


@dataclass(frozen=True)
class Decision:
    """What to do to one executor: add ``scale_out`` blocks, or remove ``scale_in``.

    ``scale_in_max_idletime`` is None for "remove the most idle blocks, whatever
    their idle time" and a number for "only blocks idle at least that long with no
    task" (so the executor may remove fewer).
    """

    scale_out: int = 0
    scale_in: int = 0
    scale_in_max_idletime: Optional[float] = None
    reason: str = ""

    @property
    def is_noop(self) -> bool:
        return self.scale_out == 0 and self.scale_in == 0


NOTHING = Decision(reason="nothing to do")


def slots_per_block(snap: ExecutorSnapshot) -> float:
    w = snap.workers_per_node
    if w is None or w <= 0 or math.isinf(w):
        w = 1
    return w * max(1, snap.nodes_per_block)


def decide(snap: ExecutorSnapshot, memory: PolicyMemory, now: float, strategy: str,
           max_idletime: float) -> tuple[Decision, PolicyMemory]:
    """One strategy pass for one executor → (decision, memory for the next pass)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)} (or None)")

    first_out = 0
    if not memory.first_pass_done:
        memory = replace(memory, first_pass_done=True)
        first_out = max(0, min(snap.init_blocks, snap.max_blocks) - snap.active_blocks)
    if strategy == "none":
        return (Decision(scale_out=first_out, reason="init_blocks") if first_out else NOTHING), memory

    # Count the blocks the first pass is adding, so the rules below see them.
    snap = replace(snap, active_blocks=snap.active_blocks + first_out)
    decision, memory = _general(snap, memory, now, strategy, max_idletime)
    if first_out:
        decision = replace(decision, scale_out=decision.scale_out + first_out,
                           reason=f"init_blocks; {decision.reason}")
    return decision, memory


def _general(snap: ExecutorSnapshot, memory: PolicyMemory, now: float, strategy: str,
             max_idletime: float) -> tuple[Decision, PolicyMemory]:
    T, B, p = snap.outstanding, snap.active_blocks, snap.parallelism
    per_block = slots_per_block(snap)
    S = B * per_block
    room = max(0, snap.max_blocks - B)

    if B < snap.min_blocks:
        n = min(snap.min_blocks - B, room)
        if n > 0:
            return Decision(scale_out=n, reason=f"below min_blocks={snap.min_blocks}"), \
                replace(memory, idle_since=None)

    if T == 0:
        if B <= snap.min_blocks:
            return NOTHING, replace(memory, idle_since=None)
        if memory.idle_since is None:
            return Decision(reason="idle: timer started"), replace(memory, idle_since=now)
        if now - memory.idle_since < max_idletime:
            return Decision(reason="idle: waiting for max_idletime"), memory
        return (Decision(scale_in=B - snap.min_blocks, reason=f"idle for {now - memory.idle_since:.1f} s"),
                replace(memory, idle_since=None))

    memory = replace(memory, idle_since=None)   # T > 0: the executor is busy
    if S / T < p:
        if room == 0:
            return Decision(reason="more slots wanted but at max_blocks"), memory
        wanted = math.ceil(math.ceil(T * p - S) / per_block)
        return Decision(scale_out=min(wanted, room), reason=f"slots/tasks {S:g}/{T} < parallelism {p:g}"), memory
    if S == 0:
        # Only reachable with p == 0: keep at least one block so the work can run.
        if room == 0:
            return NOTHING, memory
        return Decision(scale_out=1, reason="tasks waiting and no slots"), memory
    if S > T and strategy == "htex_auto_scale" and snap.can_scale_in_idle and B > snap.min_blocks:
        n = min(math.floor(math.floor(S - T * p) / per_block), B - snap.min_blocks)
        if n > 0:
            return Decision(scale_in=n, scale_in_max_idletime=max_idletime,
                            reason=f"slots {S:g} > tasks {T}"), memory
    return NOTHING, memory
