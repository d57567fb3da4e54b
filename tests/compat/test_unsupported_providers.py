"""Cloud providers Chervil does not implement import fine and refuse clearly when built."""
import pytest

from parsl.providers.unsupported import ProviderNotAvailable


@pytest.mark.parametrize("name", ["KubernetesProvider", "AWSProvider", "GoogleCloudProvider", "AzureProvider"])
def test_importable_but_refuses_with_the_alternatives(name):
    import parsl.providers
    cls = getattr(parsl.providers, name)
    with pytest.raises(ProviderNotAvailable, match="not implemented in Chervil.*SlurmProvider"):
        cls(image="x")
