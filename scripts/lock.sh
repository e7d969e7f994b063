#!/usr/bin/env bash
# Regenerate requirements/runtime.lock and requirements/test.lock (exact versions, sha256 hashes of every
# file the package index holds for each pinned version, all platforms and the sdist).
#
#   scripts/lock.sh                          # re-resolve after a change to pyproject.toml, keeping every pin it can
#   scripts/lock.sh --upgrade-package NAME   # move one package (and what it needs) to its newest version
#   scripts/lock.sh --upgrade                # move everything to the newest versions (then test it all)
#
# Inputs: pyproject.toml ([project.dependencies]; the test lock adds the `test` extra) and
# requirements/tools.in (pip and setuptools). The test lock is constrained by the runtime lock, so the
# packages they share have the same version in both. The resolver is uv, installed at a pinned version into
# a throwaway venv and run against the default package index only (no pip.conf, no local mirrors), for
# CPython 3.11.7 on x86_64 Linux.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"

compile() {
  env -u UV_INDEX_URL -u UV_EXTRA_INDEX_URL -u UV_DEFAULT_INDEX -u UV_INDEX -u UV_FIND_LINKS \
      -u UV_CONSTRAINT -u UV_OVERRIDE -u PIP_CONSTRAINT \
    "$tmp/venv/bin/uv" pip compile --no-config --quiet \
      --python-version 3.11.7 --python-platform linux \
      --generate-hashes --custom-compile-command "scripts/lock.sh" \
      pyproject.toml requirements/tools.in "$@"
}

compile -o requirements/runtime.lock "$@"
compile --extra test -c requirements/runtime.lock -o requirements/test.lock "$@"
echo "wrote requirements/runtime.lock ($(grep -c '^[a-z0-9]' requirements/runtime.lock) packages)" \
     "and requirements/test.lock ($(grep -c '^[a-z0-9]' requirements/test.lock) packages)"
