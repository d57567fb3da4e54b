"""parsl-visualize page load times on a synthetic 100,000-task workflow (target: < 1 s each).

    .venv/bin/python benchmarks/monitoring_pages.py [-n 100000] [--db /tmp/mon-100k.db]

Builds the database once (through the real writer path), serves it in-process and fetches
every page kind 3 times, reporting the best time and the page size.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--db", default=None)
    a = ap.parse_args()
    from monitoring_synthetic_db import make

    from parsl._monitoring.web.server import VisualizationServer
    db = a.db or f"/tmp/mon-{a.n}.db"
    if not os.path.exists(db):
        t = time.perf_counter()
        make(db, a.n)
        print(f"built {db} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    rid = "synthetic-run"
    paths = ["/", f"/workflow/{rid}/", f"/workflow/{rid}/task/", f"/workflow/{rid}/task/?page={a.n // 200}",
             f"/workflow/{rid}/app/analyze", f"/workflow/{rid}/task/{a.n // 2}", f"/workflow/{rid}/resource_usage",
             f"/workflow/{rid}/dag_group_by_apps", f"/workflow/{rid}/dag_group_by_states"]
    srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
    results = {}
    try:
        for path in paths:
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                with urllib.request.urlopen(srv.url.rstrip("/") + path) as r:
                    body = r.read()
                best = min(best, time.perf_counter() - t)
            results[path] = {"seconds": round(best, 4), "kib": round(len(body) / 1024, 1)}
            print(f"{best * 1000:8.1f} ms {len(body) / 1024:7.1f} KiB  {path}", file=sys.stderr)
    finally:
        srv.close()
    print(json.dumps({"benchmark": "monitoring_pages", "tasks": a.n, "pages": results,
                      "slowest_s": max(v["seconds"] for v in results.values())}))


if __name__ == "__main__":
    main()
