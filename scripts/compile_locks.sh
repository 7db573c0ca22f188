#!/usr/bin/env bash
# Regenerate requirements/runtime.lock and requirements/dev.lock from pyproject.toml
# (docs/dependencies.md says when and why).
#
# Usage (from anywhere):  scripts/compile_locks.sh            keep every pin that still fits
#                         scripts/compile_locks.sh --upgrade  newest versions that fit
#                         scripts/compile_locks.sh --upgrade-package django
# Extra arguments go to both pip-compile calls.
#
# pip-tools runs from a throw-away virtual environment, so the project's .venv is untouched.
# pip-compile reads the index configuration of this machine's pip (pip.conf, PIP_* variables)
# like any pip command; the locks never name an index or a path (--no-emit-index-url,
# --no-emit-find-links), and they carry the SHA-256 of every file of each pinned version.
set -euo pipefail

PIP_TOOLS="pip-tools==7.6.2"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$(mktemp -d "${TMPDIR:-/tmp}/pip-tools.XXXXXX")"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/python" -m pip install --quiet "$PIP_TOOLS"

compile() {
    # Same options for both locks; the header of each file names this script, not the
    # pip-compile call, because the two calls must run in this order.
    (cd "$repo" && CUSTOM_COMPILE_COMMAND="scripts/compile_locks.sh" "$tools/bin/pip-compile" \
        --quiet --resolver=backtracking --strip-extras --generate-hashes \
        --no-emit-index-url --no-emit-find-links --no-emit-trusted-host "$@")
}

# What `dev.py run` and production install: [project].dependencies only.
compile --output-file requirements/runtime.lock "$@" pyproject.toml
# What `dev.py test` and CI install: the same pins plus [project.optional-dependencies].dev.
# The runtime lock constrains it, so a package both need has one version (and one hash set).
compile --extra dev --constraint requirements/runtime.lock \
    --output-file requirements/dev.lock "$@" pyproject.toml
