#!/bin/sh
# Builds the Debian package of annexa in one command:
#
#   packaging/build-deb.sh BUILD_DIR OUT_DIR
#
# BUILD_DIR: a meson build directory configured with --prefix=/usr, or a path
# that does not exist yet (it is then set up: release build, no tests).
# OUT_DIR receives annexa_VERSION_ARCH.deb; its path is the last line printed.
#
# `meson install --destdir` lays the files out (program, man page, example
# config as /etc/annexa/annexa.conf, systemd unit in /lib/systemd/system,
# schemas and dashboards in /usr/share/annexa), dpkg-shlibdeps finds the
# Depends, and dpkg-deb builds the package (owned by root, no fakeroot needed).
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR OUT_DIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$1
out=$2

# -Disal=enabled: the package gzips HEC bodies with ISA-L (libisal2 in its
# Depends); without libisal-dev this fails rather than build a slower one.
if [ ! -e "$build" ]; then
	mkdir -p "$(dirname "$build")"
	meson setup "$build" "$src" --prefix=/usr --buildtype=release -Dtests=false -Disal=enabled \
		-Dsystemd_unit_dir=/lib/systemd/system >"$build.setup.log" 2>&1 || {
		cat "$build.setup.log" >&2
		exit 1
	}
fi
opt() { # the value of a meson option of the build directory
	meson introspect --buildoptions "$build" |
		python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
if [ "$(opt prefix)" != /usr ]; then
	echo "$0: $build has prefix $(opt prefix): a package needs --prefix=/usr (meson configure $build --prefix=/usr)" >&2
	exit 2
fi
unitdir=$(opt systemd_unit_dir)
if [ "$unitdir" != /lib/systemd/system ]; then
	echo "$0: $build puts the unit in '$unitdir': use -Dsystemd_unit_dir=/lib/systemd/system" >&2
	exit 2
fi

ninja -C "$build" >&2
version=$(meson introspect --projectinfo "$build" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/annexa
meson install -C "$build" --destdir "$stage" --no-rebuild --strip >&2

# The rest of what Debian asks of a package.
doc=$stage/usr/share/doc/annexa
install -d "$doc"
install -m 0644 "$src/README.md" "$doc/README.md"
cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: annexa
Source: annexa

Files: *
Copyright: the annexa authors
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
EOF
gzip -9n <"$here/debian/changelog" >"$doc/changelog.Debian.gz"
gzip -9n "$stage/usr/share/man/man1/annexa.1"
chmod 0750 "$stage/etc/annexa"
chmod 0640 "$stage/etc/annexa/annexa.conf"

install -d "$stage/DEBIAN"
for f in postinst prerm postrm; do
	install -m 0755 "$here/debian/$f" "$stage/DEBIAN/$f"
done
printf '/etc/annexa/annexa.conf\n' >"$stage/DEBIAN/conffiles"

# Depends: the shared libraries the program links, as their packages say.
mkdir -p "$work/shlibs/debian"
: >"$work/shlibs/debian/control"
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O -e "$stage/usr/bin/annexa" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
if [ -z "$shlibs" ]; then
	echo "$0: dpkg-shlibdeps found no dependencies of $stage/usr/bin/annexa" >&2
	exit 1
fi
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version-1/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$shlibs, adduser/" \
	-e "s/@SIZE@/$size/" "$here/debian/control.in" >"$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs md5sum >DEBIAN/md5sums)

mkdir -p "$out"
deb=$out/annexa_${version}-1_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
