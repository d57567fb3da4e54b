"""Providers at Parsl's import path.  Imported lazily so ``import parsl.providers`` is cheap."""
from parsl._base.lazy import submodule_getattr
from parsl.providers.base import ExecutionProvider

_LAZY = {
    "LocalProvider": "parsl.providers.local.local",
    "SlurmProvider": "parsl.providers.slurm.slurm",
    "PBSProProvider": "parsl.providers.pbspro.pbspro",
    "TorqueProvider": "parsl.providers.torque.torque",
    "LSFProvider": "parsl.providers.lsf.lsf",
    "CondorProvider": "parsl.providers.condor.condor",
    "GridEngineProvider": "parsl.providers.grid_engine.grid_engine",
    # not implemented in Chervil: importable, and constructing one says so
    "KubernetesProvider": "parsl.providers.unsupported",
    "AWSProvider": "parsl.providers.unsupported",
    "GoogleCloudProvider": "parsl.providers.unsupported",
    "AzureProvider": "parsl.providers.unsupported",
}

__all__ = ["ExecutionProvider", *_LAZY]


__getattr__ = submodule_getattr(__name__, _LAZY)
