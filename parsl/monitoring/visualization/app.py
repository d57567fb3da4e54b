"""``parsl-visualize [db_url] [-p/--port 8080] [-l/--listen 127.0.0.1] [--token [TOKEN]]
[-d/--debug] [--progress]``.

With no URL it opens ``monitoring.db`` in the current directory (where MonitoringHub
writes by default), else ``runinfo/monitoring.db`` if only that exists.  Nothing is ever
created: a missing database, or a file that is not a monitoring database, is reported
with exit status 2.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from parsl._monitoring.progress import follow_database


def default_db_url() -> str:
    for path in ("monitoring.db", os.path.join("runinfo", "monitoring.db")):
        if os.path.exists(path):
            return "sqlite:///" + os.path.abspath(path)
    return "sqlite:///" + os.path.abspath("monitoring.db")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="parsl-visualize", description="Web view of a Parsl monitoring database")
    p.add_argument("db_url", nargs="?", default=None,
                   help="SQLAlchemy URL of the database (default: sqlite:///monitoring.db in this directory)")
    p.add_argument("-p", "--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument("-l", "--listen", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--token", nargs="?", const=True, default=os.environ.get("PARSL_VISUALIZE_TOKEN"),
                   help="require an access token (a random one if none is given; also read from "
                        "$PARSL_VISUALIZE_TOKEN); the URL to open is printed with it")
    p.add_argument("-d", "--debug", action="store_true", help="log every request and full tracebacks")
    p.add_argument("--progress", action="store_true",
                   help="instead of serving pages, show a live progress line of the newest workflow")
    return p.parse_args(argv)


def cli_run(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(asctime)s %(name)s [%(levelname)s] %(message)s")
    url = args.db_url or default_db_url()
    if "://" not in url:            # a bare path is friendlier than an error
        url = "sqlite:///" + os.path.abspath(url)
    try:
        # Deferred: the viewer needs SQLAlchemy, an optional extra (said below if missing).
        from parsl._monitoring.web.store import DatabaseUnusable, open_read_engine
    except ImportError as e:
        print(f"parsl-visualize needs SQLAlchemy: pip install 'chervil[visualization]' ({e})", file=sys.stderr)
        return 2
    if args.progress:
        try:
            open_read_engine(url).dispose()          # a clear message, and no file created
        except DatabaseUnusable as e:
            print(f"parsl-visualize: {e}", file=sys.stderr)
            return 2
        return follow_database(url)
    from parsl._monitoring.web.server import VisualizationServer  # deferred with the above
    try:
        server = VisualizationServer(url, host=args.listen, port=args.port, token=args.token)
    except DatabaseUnusable as e:
        print(f"parsl-visualize: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"parsl-visualize: cannot listen on {args.listen}:{args.port}: {e}", file=sys.stderr)
        return 1
    if args.listen not in ("127.0.0.1", "localhost", "::1") and not server.token:
        print("parsl-visualize: warning: listening beyond localhost without --token: anyone who can reach "
              f"{args.listen}:{server.port} can read this database", file=sys.stderr)
    print(f"parsl-visualize: serving {url} at {server.login_url} (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(cli_run())
