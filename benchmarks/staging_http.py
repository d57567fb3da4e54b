"""Stage HTTP files into HTEX tasks: many small files, then one large one.

Runs with any package importable as ``parsl`` (public API only), so the same script measures
Chervil and reference Parsl. For each phase it first downloads the same files without Parsl
(``urllib``, as many parallel downloads as there are workers): the "plain download" the
staging overhead is measured against. Prints one JSON line.

    .venv/bin/python benchmarks/staging_http.py                       # 1,000 x 1 KiB + 1 GiB
    .venv/bin/python benchmarks/staging_http.py --n-small 200 --large-mb 64   # quick
    python benchmarks/staging_compare.py                              # Chervil vs reference Parsl
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor as PlainPool


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root):
    """A separate process serves the files, so it does not compete with the DFK for the GIL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return proc, port
        except OSError as exc:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the benchmark's HTTP server did not start") from exc
            time.sleep(0.05)


def make_files(root, n_small, small_bytes, large_mb):
    blob = os.urandom(small_bytes)
    for i in range(n_small):
        with open(os.path.join(root, f"s{i:05d}.dat"), "wb") as f:
            f.write(blob)
    with open(os.path.join(root, "large.dat"), "wb") as f:
        # sparse: the server reads zeros at page-cache speed, the download writes real blocks
        f.truncate(large_mb << 20)


def plain_download(urls, dest, workers):
    os.makedirs(dest, exist_ok=True)

    def one(url):
        path = os.path.join(dest, url.rsplit("/", 1)[1])
        with urllib.request.urlopen(url, timeout=120) as r, open(path, "wb") as out:
            shutil.copyfileobj(r, out, 1 << 20)
        return os.path.getsize(path)
    t0 = time.perf_counter()
    with PlainPool(workers) as pool:
        total = sum(pool.map(one, urls))
    return time.perf_counter() - t0, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-small", type=int, default=1000)
    ap.add_argument("--small-bytes", type=int, default=1024)
    ap.add_argument("--large-mb", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--executor", choices=["htex", "threads"], default="htex")
    args = ap.parse_args()

    import parsl
    from parsl.app.app import python_app
    from parsl.config import Config
    from parsl.data_provider.files import File

    top = tempfile.mkdtemp(prefix="staging-bench-")
    served = os.path.join(top, "served")
    os.makedirs(served)
    make_files(served, args.n_small, args.small_bytes, args.large_mb)
    server, port = start_server(served)
    small_urls = [f"http://127.0.0.1:{port}/s{i:05d}.dat" for i in range(args.n_small)]
    large_url = f"http://127.0.0.1:{port}/large.dat"
    result = {"parsl_from": os.path.dirname(parsl.__file__), "executor": args.executor, "workers": args.workers,
              "n_small": args.n_small,
              "small_bytes": args.small_bytes, "large_mb": args.large_mb}
    dfk = None
    try:
        # -- plain downloads, the baseline
        plain_dir = os.path.join(top, "plain")
        result["plain_small_s"], _ = plain_download(small_urls, plain_dir, args.workers)
        result["plain_large_s"], size = plain_download([large_url], plain_dir, 1)
        assert size == args.large_mb << 20
        shutil.rmtree(plain_dir)

        work = os.path.join(top, "work")
        if args.executor == "htex":
            from parsl.executors import HighThroughputExecutor
            from parsl.providers import LocalProvider
            ex = HighThroughputExecutor(label="htex", max_workers_per_node=args.workers, working_dir=work,
                                        provider=LocalProvider(init_blocks=1, max_blocks=1))
        else:
            from parsl.executors.threads import ThreadPoolExecutor
            ex = ThreadPoolExecutor(label="threads", max_threads=args.workers, working_dir=work)
        os.makedirs(work, exist_ok=True)
        t_load = time.perf_counter()
        dfk = parsl.load(Config(executors=[ex], run_dir=os.path.join(top, "runinfo")))

        @python_app
        def size_of(inputs=()):
            import os
            return os.path.getsize(inputs[0].filepath if hasattr(inputs[0], "filepath") else inputs[0])

        @python_app
        def noop():
            return 0

        noop().result()  # workers connected before timing starts
        result["startup_s"] = time.perf_counter() - t_load

        t0 = time.perf_counter()
        futs = [size_of(inputs=[File(u)]) for u in small_urls]
        result["submit_small_s"] = time.perf_counter() - t0
        assert all(f.result() == args.small_bytes for f in futs)
        result["parsl_small_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        assert size_of(inputs=[File(large_url)]).result() == args.large_mb << 20
        result["parsl_large_s"] = time.perf_counter() - t0

        result["small_files_per_s"] = args.n_small / result["parsl_small_s"]
        result["plain_small_files_per_s"] = args.n_small / result["plain_small_s"]
        result["small_overhead_x"] = result["parsl_small_s"] / result["plain_small_s"]
        result["large_MB_per_s"] = args.large_mb / result["parsl_large_s"]
        result["plain_large_MB_per_s"] = args.large_mb / result["plain_large_s"]
        result["large_overhead_x"] = result["parsl_large_s"] / result["plain_large_s"]
    finally:
        if dfk is not None:
            dfk.cleanup()
            parsl.clear()
        server.kill()
        server.wait()
        shutil.rmtree(top, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
