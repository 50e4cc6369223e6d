#!/usr/bin/env bash
# Download every wheel the package build needs into a wheelhouse, for offline builds:
#   bash packaging/fetch-wheels.sh DIR        (default: build/wheelhouse)
#   make deb WHEELHOUSE=DIR                   (later, with no package index at all)
# The runtime pins (requirements/runtime.txt) as binary wheels for Debian's python3 on
# this architecture, and the pinned build tools (packaging/build-requirements.txt).
set -euo pipefail
# shellcheck source=packaging/common.sh
. "$(dirname "$0")/common.sh"

dest=${1:-$BUILD_ROOT/wheelhouse}
need_debs python3 python3-venv
mkdir -p "$dest" "$BUILD_ROOT"
pipvenv="$BUILD_ROOT/pip-venv"
[ -x "$pipvenv/bin/python" ] || "$SYSTEM_PYTHON" -m venv "$pipvenv" >&2
for req in "$REPO/requirements/runtime.txt" "$PACKAGING/build-requirements.txt"; do
    "$pipvenv/bin/python" -m pip download --quiet --disable-pip-version-check \
        --only-binary=:all: --no-deps -d "$dest" -r "$req"
done
say "wheelhouse $dest: $(find "$dest" -name '*.whl' | wc -l) wheels"
