#!/usr/bin/env bash
# Build ccmgr's sdist and wheel (from app/pyproject.toml) into dist/ (or $OUTDIR).
#   bash packaging/build-wheel.sh                     # build tools from the package index
#   WHEELHOUSE=dir bash packaging/build-wheel.sh      # offline (packaging/fetch-wheels.sh dir)
# The build runs on a clean copy of app/ with Debian's /usr/bin/python3 and pinned tools
# (packaging/build-requirements.txt), so it neither writes into the source tree nor
# depends on the developer's Python. Prints the wheel's path on stdout.
set -euo pipefail
# shellcheck source=packaging/common.sh
. "$(dirname "$0")/common.sh"

OUTDIR=${OUTDIR:-$REPO/dist}
need_debs python3 python3-venv
venv=$(tools_venv)

work=$(mktemp -d "${TMPDIR:-/tmp}/ccmgr-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$OUTDIR"
cp "$REPO/app/pyproject.toml" "$REPO/app/README.md" "$work/src/"
tar -C "$REPO/app" --exclude=__pycache__ --exclude='*.pyc' -cf - ccmgr | tar -C "$work/src" -xf -

# sdist first, then the wheel built from the unpacked sdist: proves the sdist is complete.
if ! "$venv/bin/python" -m build --no-isolation --outdir "$work/out" "$work/src" \
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
