#!/usr/bin/env bash
# Build or serve the documentation site (Sphinx + MyST, pages in docs/).
#   ./scripts/docs.sh build    -> docs/_build/html (any warning or broken link fails the build)
#   ./scripts/docs.sh serve    -> build, then serve it on http://127.0.0.1:8000 (PORT=... to change)
#   ./scripts/docs.sh test     -> run every code example of the docs (tests/docs)
# Installs what it needs (the `docs` extra) into the repository's .venv, creating it if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="${1:-build}"; shift || true
case "$cmd" in build|serve|test) ;; *) echo "usage: $0 build|serve|test" >&2; exit 2 ;; esac
if ! .venv/bin/python -c 'import sphinx, myst_parser, furo, parsl' >/dev/null 2>&1; then
    echo "docs: installing the docs extra into .venv (once) ..."
    [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[all,docs]' 2>&1 | grep -v '^WARNING: Location' || true
    .venv/bin/python -c 'import sphinx, myst_parser, furo' || { echo "docs: the docs extra failed to install" >&2; exit 1; }
fi
build() {
    local start=$SECONDS
    rm -rf docs/_build/html docs/_build/doctrees
    # -W: warnings are errors; --keep-going: report all of them
    .venv/bin/python -m sphinx -b html -W --keep-going -q -d docs/_build/doctrees docs docs/_build/html
    echo "docs: built docs/_build/html in $((SECONDS - start)) s (open docs/_build/html/index.html)"
}
case "$cmd" in
    build) build ;;
    serve)
        build
        port="${PORT:-8000}"
        echo "docs: serving on http://127.0.0.1:$port/ (Ctrl-C to stop)"
        exec .venv/bin/python -m http.server "$port" --bind 127.0.0.1 --directory docs/_build/html ;;
    test) exec .venv/bin/python -m pytest tests/docs -q -p no:randomly "$@" ;;
esac
