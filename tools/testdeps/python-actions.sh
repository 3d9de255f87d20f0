#!/usr/bin/env bash
# Creates the Python virtual environment the whisk-system `nuv` action tests
# run in (tests/actions/requirements.txt: the libraries the OpenWhisk python:3
# runtime ships, at its versions, plus pytest), in a cache directory OUTSIDE
# the repository keyed by the hash of the requirements and the interpreter.
# Idempotent: a second run only prints the path.
#
# Prefers Python 3.12 (the runtime's version), then python3.
#
# Usage: tools/testdeps/python-actions.sh   prints the path of the venv's python
# Env:   NUVOLARIS_TESTDEPS_CACHE          cache root (default $HOME/.cache/nuvolaris-testdeps)
#        NUV_ACTIONS_PYTHON                interpreter to build the venv from (default: see above)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

req=tests/actions/requirements.txt
cache="${NUVOLARIS_TESTDEPS_CACHE:-$HOME/.cache/nuvolaris-testdeps}"

pick_python() {
    if [ -n "${NUV_ACTIONS_PYTHON:-}" ]; then echo "$NUV_ACTIONS_PYTHON"; return; fi
    local candidate
    for candidate in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 python3; do
        # pyenv shims exist for versions that are not selected: run it to be sure.
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
            "$candidate" -c 'import sys; print(sys.executable)'
            return
        fi
    done
    echo "python3 >= 3.10 is required (3.12 preferred: the OpenWhisk python:3 runtime's version)" >&2
    exit 1
}

python="$(pick_python)"
version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
key="$( (cat "$req"; echo "$version") | sha256sum | cut -c1-16)"
venv="$cache/nuv-actions-venv-$key"

if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    mkdir -p "$cache"
    echo "creating $venv with Python $version ($python)" >&2
    "$python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    touch "$venv/.complete"
fi
echo "$venv/bin/python"
