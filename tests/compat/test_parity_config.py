"""Parity with today's Parsl: configuration (issue 16, items 5, 6 and 13).

* a config value of the wrong type is a ``TypeError`` (Parsl type-checks ``Config``) and a
  ``ConfigurationError`` with Chervil's message; ``usage_tracking`` and ``project_name`` are
  checked as Parsl checks them;
* ``import parsl`` makes the subpackages available as attributes, loaded on first use;
* the tutorial-era caching fields set as attributes on an existing ``Config`` take effect;
* ``parsl.tests.configs.{local_threads,htex_local}`` import; any other ``parsl.tests`` module
  fails with a message naming ``parsl.configs``.
"""
import os
import subprocess
import sys

import pytest

import parsl
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.errors import ConfigurationError, ConfigurationTypeError
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints

# -- item 5: wrong types are TypeErrors ---------------------------------------------------------

WRONG_TYPES = [
    dict(executors=5),
    dict(executors=ThreadPoolExecutor()),
    dict(executors=["threads"]),
    dict(retries="3"),
    dict(retries=1.5),
    dict(retry_handler=5),
    dict(strategy=5),
    dict(strategy_period="x"),
    dict(max_idletime="3"),
    dict(exit_mode="explode"),            # a Literal in Parsl: a TypeError there too
    dict(garbage_collect="yes"),
    dict(internal_tasks_max_threads="3"),
    dict(run_dir=3),
    dict(std_autopath="logs/"),
    dict(initialize_logging=3),
    dict(usage_tracking="1"),
    dict(usage_tracking=1.0),
    dict(project_name=3),
    dict(memoizer=3),
    dict(app_cache="no"),
    dict(checkpoint_mode=3),
    dict(checkpoint_period=5),
    dict(checkpoint_files="runinfo/000/checkpoint"),
]


@pytest.mark.parametrize("kwargs", WRONG_TYPES, ids=lambda kw: next(iter(kw)))
def test_a_value_of_the_wrong_type_is_a_type_error_naming_the_field(kwargs):
    field = next(iter(kwargs))
    with pytest.raises(TypeError) as ei:
        Config(**kwargs)
    assert isinstance(ei.value, ConfigurationError)
    assert isinstance(ei.value, ConfigurationTypeError)
    assert field in str(ei.value)


@pytest.mark.parametrize("kwargs", [
    dict(retries=-1), dict(strategy="fastest"), dict(strategy_period=0), dict(max_idletime=-1),
    dict(internal_tasks_max_threads=0), dict(usage_tracking=4), dict(usage_tracking=-1),
    dict(checkpoint_mode="always"), dict(checkpoint_period="10 minutes"), dict(run_dir=""),
], ids=lambda kw: f"{next(iter(kw))}={next(iter(kw.values()))!r}")
def test_a_value_of_the_right_type_but_not_allowed_is_a_configuration_error_only(kwargs):
    with pytest.raises(ConfigurationError) as ei:
        Config(**kwargs)
    assert not isinstance(ei.value, TypeError)
    assert next(iter(kwargs)) in str(ei.value)


def test_configuration_type_error_is_public_and_reads_as_parsl_errors():
    assert ConfigurationTypeError.__module__ == "parsl.errors"
    assert issubclass(ConfigurationTypeError, ConfigurationError)
    assert issubclass(ConfigurationTypeError, TypeError)


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_usage_tracking_levels_0_to_3(level):
    assert Config(usage_tracking=level).usage_tracking == level


def test_usage_tracking_out_of_range_names_the_allowed_levels():
    with pytest.raises(ConfigurationError, match="0 to 3"):
        Config(usage_tracking=4)


@pytest.mark.parametrize("name", [None, "", "my-project", "x" * 200])
def test_project_name_is_any_str_or_none(name):
    assert Config(project_name=name).project_name == name


def test_import_parsl_makes_subpackages_attributes_lazily():
    code = (
        "import sys, parsl\n"
        "assert 'parsl.executors' not in sys.modules and 'parsl.config' not in sys.modules\n"
        "assert parsl.config.Config is parsl.Config\n"
        "assert parsl.executors.ThreadPoolExecutor.__name__ == 'ThreadPoolExecutor'\n"
        "assert parsl.providers.LocalProvider.__name__ == 'LocalProvider'\n"
        "assert parsl.launchers.SingleNodeLauncher.__name__ == 'SingleNodeLauncher'\n"
        "assert parsl.app.app.python_app is parsl.python_app\n"
        "assert parsl.data_provider.files.File is parsl.File\n"
        "assert parsl.dataflow.dflow.DataFlowKernel is parsl.DataFlowKernel\n"
        "assert parsl.monitoring.monitoring.MonitoringHub is parsl.MonitoringHub\n"
        "assert parsl.utils.get_all_checkpoints and parsl.errors.ConfigurationError\n"
        "assert parsl.addresses and parsl.channels and parsl.jobs.states and parsl.serialize\n"
        "for name in ('no_such_thing', 'tests'):\n"
        "    assert not hasattr(parsl, name), name\n"
        "assert not hasattr(parsl.app, 'no_such_module')\n"
        "assert 'executors' in dir(parsl)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


# -- item 6: attribute-style configuration ------------------------------------------------------

@pytest.fixture
def threads_config(tmp_path):
    def make():
        return Config(executors=[ThreadPoolExecutor(label="t")], run_dir=str(tmp_path / "runinfo"))
    return make


def test_attributes_set_before_load_configure_the_default_memoizer(threads_config):
    config = threads_config()
    config.checkpoint_mode = "task_exit"
    config.checkpoint_files = ["a", "b"]
    config.app_cache = False
    m = config.memoizer
    assert isinstance(m, BasicMemoizer)
    assert (m.checkpoint_mode, m.checkpoint_files, m.memoize) == ("task_exit", ["a", "b"], False)
    config.checkpoint_mode = "periodic"
    assert config.checkpoint_period == "00:30:00" == config.memoizer.checkpoint_period
    config.checkpoint_period = "00:00:05"
    assert config.memoizer.checkpoint_period == "00:00:05" and config.memoizer.period_s == 5


def test_attribute_style_checkpointing_round_trip(threads_config):
    runs = []

    @parsl.python_app(cache=True)
    def square(x):
        runs.append(x)
        return x * x

    config = threads_config()
    config.checkpoint_mode = "task_exit"            # the 1.0 docs' spelling
    with parsl.load(config):
        assert square(3).result() == 9
    assert runs == [3]

    config = threads_config()
    config.checkpoint_files = get_all_checkpoints(config.run_dir)
    assert config.checkpoint_files
    with parsl.load(config):
        fut = square(3)
        assert fut.result() == 9
        assert fut.task_record["from_memo"]
    assert runs == [3]


def test_app_cache_false_set_as_attribute_turns_caching_off(threads_config):
    runs = []

    @parsl.python_app(cache=True)
    def one(x):
        runs.append(x)
        return x

    config = threads_config()
    config.app_cache = False
    with parsl.load(config):
        assert one(1).result() == 1 and one(1).result() == 1
    assert runs == [1, 1]


@pytest.mark.parametrize("field, value, kind", [
    ("checkpoint_mode", "always", ConfigurationError),
    ("checkpoint_mode", 3, TypeError),
    ("checkpoint_period", "soon", ConfigurationError),
    ("checkpoint_files", "runinfo/000/checkpoint", TypeError),
    ("app_cache", "no", TypeError),
])
def test_attributes_are_validated_as_at_construction_and_left_unchanged(field, value, kind):
    config = Config()
    before = (getattr(config, field), config.memoizer)
    with pytest.raises(kind, match=field):
        setattr(config, field, value)
    assert (getattr(config, field), config.memoizer) == before


def test_a_refused_combination_leaves_the_config_unchanged():
    config = Config(checkpoint_mode="periodic")
    with pytest.raises(ConfigurationError, match="checkpoint_period"):
        config.checkpoint_period = None        # periodic mode needs a period
    assert config.checkpoint_period == "00:30:00"


def test_legacy_attributes_conflict_with_an_explicit_memoizer():
    config = Config(memoizer=BasicMemoizer())
    with pytest.raises(ConfigurationError, match="memoizer"):
        config.checkpoint_mode = "task_exit"
    config = Config()
    config.memoizer = BasicMemoizer(checkpoint_mode="manual")
    with pytest.raises(ConfigurationError, match="memoizer"):
        config.app_cache = False
    assert config.memoizer.checkpoint_mode == "manual"


# -- item 13: parsl.tests.configs ----------------------------------------------------------------

def test_parsl_tests_configs_named_by_the_docs_import():
    from parsl.tests.configs.htex_local import config as htex_config
    from parsl.tests.configs.htex_local import fresh_config as htex_fresh
    from parsl.tests.configs.local_threads import config, fresh_config
    assert isinstance(config, Config) and isinstance(config.executors[0], ThreadPoolExecutor)
    assert fresh_config() is not config
    assert type(htex_config.executors[0]).__name__ == "HighThroughputExecutor"
    assert htex_fresh().executors[0] is not htex_config.executors[0]


def test_local_threads_test_config_runs_an_app():
    from parsl.tests.configs.local_threads import fresh_config

    @parsl.python_app
    def add(a, b):
        return a + b

    config = fresh_config()
    config.run_dir = os.path.abspath("runinfo")
    with parsl.load(config):
        assert add(1, 2).result() == 3


@pytest.mark.parametrize("stmt", [
    "import parsl.tests.configs.midway",
    "from parsl.tests.configs import midway",
    "import parsl.tests.test_python_apps.test_basic",
    "from parsl.tests import conftest",
])
def test_other_parsl_tests_modules_fail_naming_parsl_configs(stmt):
    with pytest.raises(ModuleNotFoundError, match=r"parsl\.configs"):
        exec(stmt, {})
