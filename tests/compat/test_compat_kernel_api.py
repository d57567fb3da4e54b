"""Every public import path and name of the kernel that a Parsl user touches (spec §0-§3, §9, §11)."""
import concurrent.futures as cf
import importlib
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PUBLIC_NAMES = {
    "parsl": ["load", "clear", "dfk", "wait_for_current_tasks", "python_app", "bash_app", "join_app",
              "Config", "File", "DataFlowKernel", "DataFlowKernelLoader", "ThreadPoolExecutor",
              "set_stream_logger", "set_file_logger", "NullHandler", "AUTO_LOGNAME", "VERSION", "__version__"],
    "parsl.config": ["Config"],
    "parsl.app.app": ["python_app", "bash_app", "join_app", "AppBase"],
    "parsl.app.python": ["PythonApp"],
    "parsl.app.bash": ["BashApp", "remote_side_bash_executor"],
    "parsl.app.futures": ["DataFuture"],
    "parsl.app.errors": ["ParslAppError", "AppException", "AppBadFormatting", "BashExitFailure", "AppTimeout",
                         "BashAppNoReturn", "MissingOutputs", "BadStdStreamFile", "RemoteExceptionWrapper",
                         "wrap_error"],
    "parsl.dataflow.dflow": ["DataFlowKernel", "DataFlowKernelLoader"],
    "parsl.dataflow.futures": ["AppFuture"],
    "parsl.dataflow.states": ["States", "FINAL_STATES", "FINAL_FAILURE_STATES"],
    "parsl.dataflow.taskrecord": ["TaskRecord"],
    "parsl.dataflow.dependency_resolvers": ["DependencyResolver", "SHALLOW_DEPENDENCY_RESOLVER",
                                            "DEEP_DEPENDENCY_RESOLVER", "deep_traverse_to_gather",
                                            "deep_traverse_to_unwrap"],
    "parsl.dataflow.rundirs": ["make_rundir"],
    "parsl.dataflow.errors": ["DataFlowException", "BadCheckpoint", "PropagatedException", "DependencyError",
                              "JoinError"],
    # tutorial-era path (renamed in 2023): old scripts still import from it
    "parsl.dataflow.error": ["DataFlowException", "BadCheckpoint", "DependencyError", "JoinError",
                             "ConfigurationError"],
    "parsl.errors": ["ParslError", "ConfigurationError", "OptionalModuleMissing", "InternalConsistencyError",
                     "NoDataFlowKernelError"],
    "parsl.executors": ["ThreadPoolExecutor", "ParslExecutor"],
    "parsl.executors.base": ["ParslExecutor"],
    "parsl.executors.threads": ["ThreadPoolExecutor"],
    "parsl.executors.errors": ["ExecutorError", "BadStateException", "UnsupportedFeatureError",
                               "InvalidResourceSpecification", "ScalingFailed", "BadMessage"],
    "parsl.data_provider.files": ["File"],
    "parsl.log_utils": ["set_stream_logger", "set_file_logger"],
    "parsl.utils": ["get_all_checkpoints", "get_last_checkpoint", "get_version", "execute_wait",
                    "wtime_to_minutes", "RepresentationMixin", "Timer", "AtomicIDCounter"],
    "parsl.concurrent": ["ParslPoolExecutor"],
    "parsl.usage_tracking.levels": ["DISABLED", "LEVEL_1", "LEVEL_2", "LEVEL_3"],
    "parsl.configs.local_threads": ["config"],
    "parsl.configs.htex_local": ["config"],
    "parsl.monitoring.radios.base": ["RadioConfig", "MonitoringRadioSender", "MonitoringRadioReceiver"],
    "parsl.monitoring.radios.udp": ["UDPRadio", "UDPRadioSender"],
    "parsl.monitoring.radios.htex": ["HTEXRadio", "HTEXRadioSender"],
    "parsl.monitoring.radios.filesystem": ["FilesystemRadio", "FilesystemRadioSender"],
    "parsl.monitoring.radios.multiprocessing": ["MultiprocessingQueueRadio", "MultiprocessingQueueRadioSender"],
    "parsl.monitoring.radios.threadpool": ["ThreadPoolRadio", "ThreadPoolRadioSender"],
    "parsl.monitoring.errors": ["MonitoringHubStartError", "RadioRequiredError"],
    "parsl.multiprocessing": ["SpawnQueue", "SpawnProcess", "ForkProcess", "SpawnEvent", "SpawnContext",
                              "ForkContext", "join_terminate_close_proc"],
    "parsl.dataflow.strategy": ["Strategy"],
    "parsl.dataflow.job_status_poller": ["JobStatusPoller"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_public_names_import(module):
    mod = importlib.import_module(module)
    missing = [n for n in PUBLIC_NAMES[module] if not hasattr(mod, n)]
    assert not missing, f"{module} lacks {missing}"


def test_top_level_aliases_are_the_loader_and_the_same_objects():
    import parsl
    from parsl.app.app import python_app
    from parsl.config import Config
    from parsl.data_provider.files import File
    from parsl.executors.threads import ThreadPoolExecutor
    assert parsl.python_app is python_app and parsl.Config is Config and parsl.File is File
    assert parsl.ThreadPoolExecutor is ThreadPoolExecutor
    assert parsl.AUTO_LOGNAME == -1
    assert parsl.__version__ == parsl.VERSION


def test_legacy_error_module_is_the_same_classes():
    from parsl.dataflow import error, errors
    from parsl.errors import ConfigurationError
    assert error.DependencyError is errors.DependencyError
    assert error.ConfigurationError is ConfigurationError


def test_error_hierarchy():
    from parsl.app import errors as app_errors
    from parsl.dataflow import errors as df_errors
    from parsl.errors import ConfigurationError, NoDataFlowKernelError, ParslError
    from parsl.executors import errors as ex_errors
    assert issubclass(df_errors.DependencyError, df_errors.PropagatedException)
    assert issubclass(df_errors.JoinError, df_errors.PropagatedException)
    assert issubclass(df_errors.PropagatedException, df_errors.DataFlowException)
    assert issubclass(df_errors.DataFlowException, ParslError)
    assert issubclass(app_errors.BashExitFailure, app_errors.AppException)
    assert issubclass(app_errors.AppTimeout, app_errors.AppException)
    assert issubclass(app_errors.AppException, ParslError)
    assert issubclass(ex_errors.InvalidResourceSpecification, ex_errors.ExecutorError)
    assert issubclass(ex_errors.ExecutorError, ParslError)
    assert issubclass(ConfigurationError, ParslError) and issubclass(NoDataFlowKernelError, ParslError)


def test_futures_are_standard_futures():
    from parsl.app.futures import DataFuture
    from parsl.dataflow.futures import AppFuture
    assert issubclass(AppFuture, cf.Future) and issubclass(DataFuture, cf.Future)


def test_executor_interface():
    from parsl.executors.base import ParslExecutor
    for name in ("start", "submit", "shutdown", "monitor_resources", "label", "run_dir", "run_id"):
        assert hasattr(ParslExecutor, name)


def test_example_config_loads_and_runs():
    import parsl
    from parsl.configs.local_threads import config
    with parsl.load(config):
        assert parsl.python_app(lambda: 7)().result(timeout=20) == 7


def test_htex_local_example_config_runs_a_task():
    import parsl
    from parsl.configs.htex_local import config
    with parsl.load(config):
        assert parsl.python_app(lambda: 8)().result(timeout=60) == 8


def _run(code):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_parsl_imports_no_heavy_or_optional_dependency():
    out = _run("import sys, parsl\n"
               "heavy = ('zmq', 'sqlalchemy', 'cloudpickle', 'psutil', 'tblib', 'globus_sdk', 'typeguard')\n"
               "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))")
    assert out.strip() == "[]"


def test_a_threads_workflow_imports_no_zmq_or_sqlalchemy():
    out = _run("import sys, parsl\n"
               "from parsl import python_app\n"
               "from parsl.config import Config\n"
               "from parsl.executors.threads import ThreadPoolExecutor\n"
               "with parsl.load(Config(executors=[ThreadPoolExecutor()])):\n"
               "    assert python_app(lambda: 1)().result() == 1\n"
               "print(sorted({m.split('.')[0] for m in sys.modules} & {'zmq', 'sqlalchemy'}))")
    assert out.strip() == "[]"


def test_star_import_works():
    # Parsl's own __all__ names a class it never imports, so this fails there (spec §12)
    _run("from parsl import *\nassert callable(python_app) and Config")


def test_exiting_without_cleanup_does_not_hang_or_leak():
    out = _run("import parsl\n"
               "from parsl.configs.local_threads import config\n"
               "d = parsl.load(config)\n"
               "print(parsl.python_app(lambda: 'ran')().result())\n")
    assert out.strip() == "ran"
