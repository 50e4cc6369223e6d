#!/usr/bin/env bash
# Build ccmgr_<version>_<arch>.deb: a virtual environment of Debian's python3 under
# /opt/ccmgr with ccmgr and its pinned dependencies, the systemd unit, the default config,
# maintainer scripts. Plain dpkg-deb on a staged tree (packaging/README.md says why).
#
#   bash packaging/build-deb.sh                           # wheels from the package index
#   WHEELHOUSE=dir bash packaging/build-deb.sh            # offline (packaging/fetch-wheels.sh)
#   VERSION=0.1.0+2 OUTDIR=/tmp/x bash packaging/build-deb.sh
#
# Environment: VERSION (default ccmgr.__version__), WHEELHOUSE, OUTDIR (default dist/),
# BUILD_ROOT (default build/), MAINTAINER, LINTIAN (auto|yes|no: run lintian on the result;
# auto = when installed; errors fail the build). Prints the .deb's path on stdout.
set -euo pipefail
# shellcheck source=packaging/common.sh
. "$(dirname "$0")/common.sh"
umask 022

VERSION=${VERSION:-$(ccmgr_version)}
OUTDIR=${OUTDIR:-$REPO/dist}
MAINTAINER=${MAINTAINER:-ccmgr developers <ccmgr-dev@example.org>}
LINTIAN=${LINTIAN:-auto}
PREFIX=/opt/ccmgr

# A Debian version: digits first, then [A-Za-z0-9.+~] (PEP 440 pre-releases sort with ~).
VERSION=$(printf '%s' "$VERSION" | sed -E 's/^v//; s/[.-]?(a|b|rc|dev)([0-9]+)$/~\1\2/')
[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "not a usable Debian version: '$VERSION'"

need_debs python3 python3-venv dpkg-dev binutils
"$SYSTEM_PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' \
    || die "$SYSTEM_PYTHON is older than 3.11"
pyver=$("$SYSTEM_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pynext=$("$SYSTEM_PYTHON" -c 'import sys; print("%d.%d" % (sys.version_info[0], sys.version_info[1] + 1))')
arch=$(dpkg --print-architecture)

work="$BUILD_ROOT/deb"
root="$work/root"
rm -rf "$work"
mkdir -p "$work" "$OUTDIR"

# 1. ccmgr's wheel, built like `make wheel` but into the work directory.
wheel=$(OUTDIR="$work/wheel" bash "$PACKAGING/build-wheel.sh")

# 2. The virtual environment, staged at $root$PREFIX, then made to live at $PREFIX.
venv="$root$PREFIX"
"$SYSTEM_PYTHON" -m venv "$venv"
mapfile -t src < <(pip_source_args)
# Exactly the pinned set, binary wheels only, nothing resolved at build time.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
    "${src[@]}" --only-binary=:all: --no-deps -r "$REPO/requirements/runtime.txt" "$wheel"
"$venv/bin/python" -m pip check
# The installers are not needed at run time.
"$venv/bin/python" -m pip uninstall --quiet --yes pip setuptools >/dev/null 2>&1 || true
# Of the console scripts only ccmgr, ccmgradm and gunicorn (--check-config) are kept.
find "$venv/bin" -type f ! -name ccmgr ! -name ccmgradm ! -name gunicorn ! -name activate -delete
find "$venv" -name __pycache__ -prune -exec rm -rf {} +
find "$venv" -mindepth 1 -type d -empty -delete
# direct_url.json records the wheel's build path; drop it (and its RECORD line).
for f in "$venv"/lib/python*/site-packages/*.dist-info/direct_url.json; do
    [ -e "$f" ] || continue
    rm -f "$f"
    sed -i '/\.dist-info\/direct_url\.json,/d' "$(dirname "$f")/RECORD"
done
# Shebangs, activate, pyvenv.cfg: the staging path becomes $PREFIX.
grep -rlF --null "$venv" "$venv/bin" "$venv/pyvenv.cfg" | xargs -0 -r sed -i "s|$venv|$PREFIX|g"
# Compiled extensions stripped as dh_strip does (the wheels ship debug symbols).
find "$venv" -name '*.so*' -type f -exec strip --remove-section=.comment \
    --remove-section=.note --strip-unneeded {} +
# Byte-code compiled for its final path; checked-hash .pyc stay valid whatever mtimes
# dpkg gives the files, and the service (read-only /opt) never has to write any.
"$SYSTEM_PYTHON" -m compileall -q -j0 --invalidation-mode checked-hash \
    -s "$root" -p / "$venv/lib" >/dev/null
if leaks=$(grep -rlF "$root" "$root"); then
    die "build paths left in the package: $leaks"
fi

# 3. Everything else.
install -d "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/ccmgr" \
    "$root/etc/logrotate.d" "$root/usr/share/man/man8" "$root/usr/share/doc/ccmgr"
ln -s "$PREFIX/bin/ccmgr" "$root/usr/bin/ccmgr"
ln -s "$PREFIX/bin/ccmgradm" "$root/usr/bin/ccmgradm"
install -m 0644 "$REPO/systemd/ccmgr.service" "$root/lib/systemd/system/ccmgr.service"
install -m 0644 "$PACKAGING/ccmgr.yaml" "$root/usr/share/ccmgr/ccmgr.yaml.default"
install -m 0644 "$PACKAGING/logrotate" "$root/etc/logrotate.d/ccmgr"
for page in ccmgr.8 ccmgradm.8; do
    gzip -9n <"$PACKAGING/man/$page" >"$root/usr/share/man/man8/$page.gz"
done
years=$(git -C "$REPO" log --format=%ad --date=format:%Y 2>/dev/null | sort -u | sed -n '1p;$p' \
    | paste -sd- | sed -E 's/^([0-9]+)-\1$/\1/')
sed "s|@YEARS@|${years:-$(date +%Y)}|" "$PACKAGING/debian/copyright" \
    >"$root/usr/share/doc/ccmgr/copyright"
install -D -m 0644 "$PACKAGING/debian/lintian-overrides" \
    "$root/usr/share/lintian/overrides/ccmgr"
install -m 0644 "$REPO/docs/operations.md" "$root/usr/share/doc/ccmgr/operations.md"
date=$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)}")
{
    printf 'ccmgr (%s) unstable; urgency=medium\n\n' "$VERSION"
    printf '  * Built from the ccmgr repository (git %s).\n\n' \
        "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    printf ' -- %s  %s\n' "$MAINTAINER" "$date"
} | gzip -9n >"$root/usr/share/doc/ccmgr/changelog.gz"

# 4. Control area. Library dependencies of the compiled extensions come from
# dpkg-shlibdeps (libraries the wheels bundle themselves, e.g. cffi.libs, are skipped).
mkdir -p "$root/DEBIAN" "$work/shlibs/debian"
printf 'Source: ccmgr\n\nPackage: ccmgr\nArchitecture: any\n' >"$work/shlibs/debian/control"
mapfile -t sofiles < <(find "$venv" -name '*.so*' -type f | sort)
libdirs=$(find "$venv" -type d -name '*.libs' -printf '%p:' | sed 's/:$//')
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O --ignore-missing-info ${libdirs:+-l"$libdirs"} \
    "${sofiles[@]}" 2>"$work/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { cat "$work/shlibdeps.log" >&2; die "dpkg-shlibdeps found no dependencies"; }
depends="python3 (>= $pyver), python3 (<< $pynext), adduser, $shlibs"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
    "$PACKAGING/debian/control.in" >"$root/DEBIAN/control"
for script in postinst prerm postrm; do
    install -m 0755 "$PACKAGING/debian/$script" "$root/DEBIAN/$script"
done
echo /etc/logrotate.d/ccmgr >"$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' \
    | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

deb="$OUTDIR/ccmgr_${VERSION}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
say "built $deb ($(du -h "$deb" | cut -f1), Depends: $depends)"

if [ "$LINTIAN" = yes ] || { [ "$LINTIAN" = auto ] && command -v lintian >/dev/null; }; then
    [ "$LINTIAN" = yes ] && need_debs lintian
    lintian --info --fail-on error --profile debian "$deb" >&2 || die "lintian reports errors"
fi
echo "$deb"
