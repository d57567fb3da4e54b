"""Config validation at construction: TypeError for unknown keywords, ConfigurationError
naming the field and the fix for bad values."""
import warnings

import pytest

from parsl.config import Config
from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER, SHALLOW_DEPENDENCY_RESOLVER
from parsl.errors import ConfigurationError
from parsl.executors.threads import ThreadPoolExecutor


def test_defaults():
    c = Config()
    assert len(c.executors) == 1 and isinstance(c.executors[0], ThreadPoolExecutor)
    assert c.dependency_resolver is SHALLOW_DEPENDENCY_RESOLVER
    assert c.exit_mode == "cleanup"
    assert c.garbage_collect is True
    assert c.internal_tasks_max_threads == 10
    assert c.retries == 0 and c.retry_handler is None
    assert c.run_dir == "runinfo"
    assert c.std_autopath is None
    assert c.strategy == "simple" and c.strategy_period == 5 and c.max_idletime == 120.0
    assert c.monitoring is None
    assert c.usage_tracking == 0
    assert c.project_name is None
    assert c.initialize_logging is True
    assert c.app_cache is True and c.checkpoint_mode is None
    assert c.checkpoint_files is None and c.checkpoint_period is None


def test_empty_executor_list_gets_a_thread_pool():
    assert isinstance(Config(executors=[]).executors[0], ThreadPoolExecutor)


def test_every_parameter_of_both_generations_is_accepted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        c = Config(executors=[ThreadPoolExecutor(label="a")], app_cache=False, checkpoint_files=[],
                   checkpoint_mode="task_exit", checkpoint_period=None,
                   dependency_resolver=DEEP_DEPENDENCY_RESOLVER, exit_mode="wait", garbage_collect=False,
                   internal_tasks_max_threads=3, retries=2, retry_handler=lambda e, r: 1, run_dir="elsewhere",
                   std_autopath=lambda r, kw: kw, strategy="none", strategy_period=1, max_idletime=0.5,
                   monitoring=None, usage_tracking=3, project_name="p", initialize_logging=False,
                   lazy_errors=True, data_management_max_threads=4)
    assert c.retries == 2 and c.exit_mode == "wait" and c.dependency_resolver is DEEP_DEPENDENCY_RESOLVER
    assert c.checkpoint_mode == "task_exit" and c.app_cache is False


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        Config(no_such_option=1)


def test_duplicate_labels_are_named_with_the_fix():
    with pytest.raises(ConfigurationError) as ei:
        Config(executors=[ThreadPoolExecutor(label="x"), ThreadPoolExecutor(label="x"),
                          ThreadPoolExecutor(label="y")])
    msg = str(ei.value)
    assert "['x']" in msg and "label" in msg


def test_reserved_internal_label():
    with pytest.raises(ConfigurationError, match="_parsl_internal"):
        Config(executors=[ThreadPoolExecutor(label="_parsl_internal")])


@pytest.mark.parametrize("kwargs, field", [
    (dict(executors=ThreadPoolExecutor()), "executors"),          # not a list
    (dict(executors=["threads"]), "executors"),                   # not an executor
    (dict(retries=-1), "retries"),
    (dict(retries=1.5), "retries"),
    (dict(retries=True), "retries"),
    (dict(retry_handler=5), "retry_handler"),
    (dict(strategy="fastest"), "strategy"),
    (dict(strategy_period=0), "strategy_period"),
    (dict(max_idletime=-1), "max_idletime"),
    (dict(exit_mode="explode"), "exit_mode"),
    (dict(usage_tracking=4), "usage_tracking"),
    (dict(usage_tracking="yes"), "usage_tracking"),
    (dict(internal_tasks_max_threads=0), "internal_tasks_max_threads"),
    (dict(std_autopath="logs/"), "std_autopath"),
    (dict(initialize_logging="yes"), "initialize_logging"),
    (dict(checkpoint_mode="always"), "checkpoint_mode"),
    (dict(checkpoint_period="10 minutes"), "checkpoint_period"),
    (dict(checkpoint_files="runinfo/000/checkpoint"), "checkpoint_files"),
    (dict(run_dir=5), "run_dir"),
])
def test_bad_values_name_the_field(kwargs, field):
    with pytest.raises(ConfigurationError) as ei:
        Config(**kwargs)
    msg = str(ei.value)
    assert field in msg
    assert "invalid" in msg or "must" in msg or "use" in msg


def test_usage_tracking_bool_is_the_old_spelling():
    assert Config(usage_tracking=True).usage_tracking == 1
    assert Config(usage_tracking=False).usage_tracking == 0


def test_strategy_none_is_deprecated_spelling_of_none():
    with pytest.warns(DeprecationWarning, match="strategy"):
        c = Config(strategy=None)
    assert c.strategy == "none"


def test_periodic_checkpoints_default_to_thirty_minutes():
    assert Config(checkpoint_mode="periodic").checkpoint_period == "00:30:00"
    assert Config(checkpoint_mode="periodic", checkpoint_period="00:00:05").checkpoint_period == "00:00:05"


def test_memoizer_and_legacy_parameters_conflict():
    with pytest.raises(ConfigurationError, match="memoizer"):
        Config(memoizer=object(), checkpoint_mode="task_exit")


def test_tutorial_only_parameters_warn_but_work():
    with pytest.warns(DeprecationWarning):
        c = Config(lazy_errors=False)
    assert c.lazy_errors is False


def test_pathlike_run_dir(tmp_path):
    assert Config(run_dir=tmp_path).run_dir == str(tmp_path)


def test_repr_and_usage_information_do_not_fail():
    c = Config()
    assert repr(c).startswith("Config(")
    assert c.get_usage_information()["executors_len"] == 1
