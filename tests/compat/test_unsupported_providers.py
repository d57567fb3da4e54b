"""Cloud providers Chervil does not implement import fine and refuse clearly when built."""
import pytest

from parsl.providers.unsupported import ProviderNotAvailable


@pytest.mark.parametrize("name", ["KubernetesProvider", "AWSProvider", "GoogleCloudProvider", "AzureProvider"])
def test_importable_but_refuses_with_the_alternatives(name):
    import parsl.providers
    cls = getattr(parsl.providers, name)
    with pytest.raises(ProviderNotAvailable, match="not implemented in Chervil.*SlurmProvider"):
        cls(image="x")


@pytest.mark.parametrize("name", ["WorkQueueExecutor", "TaskVineExecutor", "FluxExecutor", "GlobusComputeExecutor"])
def test_other_executors_import_and_refuse(name):
    import parsl.executors
    from parsl.executors.errors import ExecutorError
    cls = getattr(parsl.executors, name)
    with pytest.raises(ExecutorError, match="not implemented in Chervil"):
        cls()


def test_workqueue_from_parsl_top_level():
    from parsl import WorkQueueExecutor
    from parsl.executors.workqueue import WorkQueueExecutor as W2
    assert WorkQueueExecutor is W2
