"""Cloud providers Parsl has and Chervil does not (yet): importable, refuse to construct.

A script that imports them but runs on another provider keeps working; constructing one
says plainly that Chervil does not provide it and what to use instead.
"""
from parsl._base.errors import ParslError


class ProviderNotAvailable(ParslError):
    pass


class _Unavailable:
    _what = "this provider"

    def __init__(self, *args, **kwargs):
        raise ProviderNotAvailable(
            f"{type(self).__name__} ({self._what}) is not implemented in Chervil. Use LocalProvider, "
            "SlurmProvider, PBSProProvider, TorqueProvider, LSFProvider, GridEngineProvider or "
            "CondorProvider, or run Parsl itself for this site.")


class KubernetesProvider(_Unavailable):
    _what = "pods on Kubernetes"


class AWSProvider(_Unavailable):
    _what = "EC2 instances"


class GoogleCloudProvider(_Unavailable):
    _what = "Google Compute Engine instances"


class AzureProvider(_Unavailable):
    _what = "Azure virtual machines"
