"""Machinery shared by the batch-scheduler providers.

``commands`` runs scheduler commands with a deadline, ``walltime`` converts Parsl's
walltime strings, ``scripts`` renders and writes submit scripts, and one module per
scheduler family (``slurm``, ``pbs``, ``lsf``, ``sge``, ``condor``) holds that
scheduler's script template and the pure functions that parse its command output.
The public provider classes in ``parsl.providers`` are thin shells over these.
"""
from parsl._batch.commands import execute_wait
from parsl._batch.walltime import wtime_to_minutes

__all__ = ["execute_wait", "wtime_to_minutes"]
