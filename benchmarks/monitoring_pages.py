"""parsl-visualize page and chart-data times on a synthetic workflow (targets: < 1 s each at
100,000 tasks, < 3 s at 1,000,000).

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
    w = f"/workflow/{rid}/"
    api = f"/api/workflow/{rid}/"
    # every page, then the JSON its charts draw (the first fetch of each is the cold one)
    paths = ["/", w, api + "overview", w + "stream", api + "stream", w + "task/", w + f"task/?page={a.n // 200}",
             w + "app/analyze", w + f"task/{a.n // 2}", w + "resource_usage", api + "resources",
             w + "dag_group_by_apps", w + "dag_group_by_states", api + "dag", api + "overview?app=analyze",
             f"/compare?a={rid}&b={rid}"]
    srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
    results = {}
    try:
        for path in paths:
            times = []
            for _ in range(3):
                t = time.perf_counter()
                with urllib.request.urlopen(srv.url.rstrip("/") + path) as r:
                    body = r.read()
                times.append(time.perf_counter() - t)
            results[path] = {"cold_s": round(times[0], 4), "seconds": round(min(times), 4),
                             "kib": round(len(body) / 1024, 1)}
            print(f"cold {times[0] * 1000:8.1f} ms  best {min(times) * 1000:8.1f} ms "
                  f"{len(body) / 1024:7.1f} KiB  {path}", file=sys.stderr)
    finally:
        srv.close()
    print(json.dumps({"benchmark": "monitoring_pages", "tasks": a.n, "pages": results,
                      "slowest_s": max(v["seconds"] for v in results.values()),
                      "slowest_cold_s": max(v["cold_s"] for v in results.values())}))


if __name__ == "__main__":
    main()
