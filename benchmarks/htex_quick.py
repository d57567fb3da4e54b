"""Quick HTEX numbers without the DFK: start-up, no-op throughput, round trip, shutdown.

    .venv/bin/python benchmarks/htex_quick.py [-n 5000] [--rtt 200] [--encrypted on|off] [--pool]

``--pool`` also runs concurrent.futures.ProcessPoolExecutor(2) on the same tasks.
"""
import argparse
import concurrent.futures as cf
import statistics
import tempfile
import time


def noop(x):
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--rtt", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--encrypted", default="on")
    ap.add_argument("--pool", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider
    ex = HighThroughputExecutor(address="127.0.0.1", max_workers_per_node=a.workers,
                                encrypted=a.encrypted == "on", provider=LocalProvider(init_blocks=1))
    ex.run_dir = tempfile.mkdtemp(prefix="htexq")
    ex.start()
    ex.submit(noop, {}, 0).result(timeout=30)
    print(f"start -> first result: {time.perf_counter() - t0:.3f} s")
    for _ in range(50):
        ex.submit(noop, {}, 0).result()
    t = time.perf_counter()
    futs = [ex.submit(noop, {}, i) for i in range(a.n)]
    for f in futs:
        f.result()
    print(f"htex no-op throughput: {a.n / (time.perf_counter() - t):,.0f} tasks/s")
    lat = []
    for i in range(a.rtt):
        t = time.perf_counter()
        ex.submit(noop, {}, i).result()
        lat.append(time.perf_counter() - t)
    print(f"htex median round trip: {statistics.median(lat) * 1e3:.3f} ms")
    t = time.perf_counter()
    ex.shutdown()
    print(f"shutdown: {time.perf_counter() - t:.3f} s")
    if a.pool:
        with cf.ProcessPoolExecutor(a.workers) as pool:
            pool.submit(noop, 0).result()
            t = time.perf_counter()
            futs = [pool.submit(noop, i) for i in range(a.n)]
            for f in futs:
                f.result()
            print(f"ProcessPoolExecutor({a.workers}) throughput: {a.n / (time.perf_counter() - t):,.0f} tasks/s")


if __name__ == "__main__":
    main()
