"""Providers at Parsl's import path.  Imported lazily so ``import parsl.providers`` is cheap."""
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


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'parsl.providers' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
