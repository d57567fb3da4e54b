# TEMPORARY shim, lead replaces at merge: the staging helper's branch defines DataManager here.
from parsl.data_provider.data_manager import DataManager as DataManager  # noqa: F401
