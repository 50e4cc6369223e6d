# Shared by packaging/*.sh (sourced, not run). Bash; callers set -euo pipefail.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGING="$REPO/packaging"
# Debian's interpreter: the venv in the .deb must run on the target's python3 package.
SYSTEM_PYTHON=/usr/bin/python3
BUILD_ROOT=${BUILD_ROOT:-$REPO/build}

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Install the Debian packages named when missing (needs root for apt-get).
need_debs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The version of the ccmgr package (ccmgr.__version__), read without importing it.
ccmgr_version() {
    sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$REPO/app/ccmgr/__init__.py"
}

# pip arguments that pick the package source: a prepared wheelhouse (offline) or the index.
pip_source_args() {
    if [ -n "${WHEELHOUSE:-}" ]; then
        [ -d "$WHEELHOUSE" ] || die "WHEELHOUSE=$WHEELHOUSE is not a directory"
        printf '%s\n' --no-index --find-links "$(cd "$WHEELHOUSE" && pwd)"
    fi
}

# A virtual environment of Debian's Python with the pinned build tools; echoes its path.
tools_venv() {
    local venv="$BUILD_ROOT/tools-venv" stamp src=()
    stamp="$venv/.stamp-$(sha256sum "$PACKAGING/build-requirements.txt" | cut -c1-16)"
    if [ ! -e "$stamp" ]; then
        rm -rf "$venv"
        "$SYSTEM_PYTHON" -m venv "$venv" >&2
        mapfile -t src < <(pip_source_args)
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "${src[@]}" --only-binary=:all: -r "$PACKAGING/build-requirements.txt" >&2
        touch "$stamp"
    fi
    printf '%s\n' "$venv"
}
