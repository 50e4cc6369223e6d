#!/usr/bin/env bash
# Build ccmgr's sdist and wheel (from the root pyproject.toml) into dist/ (or $OUTDIR).
#   bash packaging/build-wheel.sh                     # build tools from the package index
#   WHEELHOUSE=dir bash packaging/build-wheel.sh      # offline (packaging/fetch-wheels.sh dir)
# The sdist is made from the repository root (pyproject.toml: the package is app/ccmgr) and
# the wheel from the unpacked sdist, with Debian's /usr/bin/python3 and pinned tools
# (packaging/build-requirements.txt), so it does not depend on the developer's Python.
# setuptools writes only app/ccmgr.egg-info (gitignored) into the tree.
# Prints the wheel's path on stdout.
set -euo pipefail
# shellcheck source=packaging/common.sh
. "$(dirname "$0")/common.sh"

OUTDIR=${OUTDIR:-$REPO/dist}
need_debs python3 python3-venv
# The wheel (and so the .deb) carries the built dashboard: refuse to make one without it.
[ -f "$REPO/app/ccmgr/webui/index.html" ] ||
    die "the dashboard is not built (app/ccmgr/webui/index.html): run make venv first"
venv=$(tools_venv)

work=$(mktemp -d "${TMPDIR:-/tmp}/ccmgr-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUTDIR"

# sdist first, then the wheel built from the unpacked sdist: proves the sdist is complete.
if ! (cd "$REPO" && "$venv/bin/python" -m build --no-isolation --outdir "$work/out" .) \
        >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    die "python -m build failed"
fi
version=$(ccmgr_version)
wheel=$(ls "$work/out/ccmgr-$version-"*.whl)
sdist=$(ls "$work/out/ccmgr-$version.tar.gz")
cp "$wheel" "$sdist" "$OUTDIR/"
say "built $OUTDIR/${sdist##*/} and $OUTDIR/${wheel##*/}"
echo "$OUTDIR/${wheel##*/}"
