"""``parsl-perf`` runs a config file and reports rates, as Parsl's tool does."""
import subprocess
import sys


def test_parsl_perf_runs_a_config(tmp_path):
    cfg = tmp_path / "cfg.py"
    cfg.write_text("from parsl.config import Config\n"
                   "from parsl.executors import ThreadPoolExecutor\n"
                   "def fresh_config():\n"
                   "    return Config(executors=[ThreadPoolExecutor(max_threads=2)])\n")
    out = subprocess.run([sys.executable, "-m", "parsl.benchmark.perf", "--config", str(cfg),
                          "--time", "0.1", "--iterate", "2"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("==== Iteration") == 2
    assert "tasks/s" in out.stdout


def test_parsl_perf_rejects_a_file_without_config(tmp_path):
    cfg = tmp_path / "empty.py"
    cfg.write_text("x = 1\n")
    out = subprocess.run([sys.executable, "-m", "parsl.benchmark.perf", "--config", str(cfg)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "neither 'config' nor 'fresh_config()'" in out.stderr
