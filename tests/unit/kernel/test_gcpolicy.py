"""The collector's thresholds while a workflow is loaded (parsl/_core/gcpolicy.py)."""
import gc

import pytest

import parsl
from parsl._core import gcpolicy
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


@pytest.fixture
def python_defaults():
    saved = gc.get_threshold()
    gc.set_threshold(*gcpolicy.PYTHON_DEFAULTS)
    yield
    gc.set_threshold(*saved)


def load_and_clean(tmp_path):
    dfk = parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=1)], run_dir=str(tmp_path)))
    try:
        return gc.get_threshold()
    finally:
        dfk.cleanup()
        parsl.clear()


def test_a_loaded_workflow_raises_the_default_thresholds_and_restores_them(tmp_path, python_defaults, monkeypatch):
    monkeypatch.delenv(gcpolicy.ENV, raising=False)
    assert load_and_clean(tmp_path) == gcpolicy.WORKFLOW_THRESHOLDS
    assert gc.get_threshold() == gcpolicy.PYTHON_DEFAULTS


def test_thresholds_the_program_chose_are_kept(tmp_path, monkeypatch):
    monkeypatch.delenv(gcpolicy.ENV, raising=False)
    saved = gc.get_threshold()
    gc.set_threshold(1234, 5, 6)
    try:
        assert load_and_clean(tmp_path) == (1234, 5, 6)
        assert gc.get_threshold() == (1234, 5, 6)
    finally:
        gc.set_threshold(*saved)


def test_the_environment_variable_opts_out_or_chooses(tmp_path, python_defaults, monkeypatch):
    monkeypatch.setenv(gcpolicy.ENV, "python")
    assert load_and_clean(tmp_path) == gcpolicy.PYTHON_DEFAULTS
    monkeypatch.setenv(gcpolicy.ENV, "9000,7,3")
    assert load_and_clean(tmp_path) == (9000, 7, 3)
    assert gc.get_threshold() == gcpolicy.PYTHON_DEFAULTS
    monkeypatch.setenv(gcpolicy.ENV, "lots")
    with pytest.raises(ValueError, match="PARSL_GC_THRESHOLDS"):
        gcpolicy.wanted_thresholds()
