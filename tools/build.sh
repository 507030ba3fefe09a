#!/bin/sh
# Configure and build mssl out of tree: tools/build.sh BUILDDIR [configure args]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" --enable-strict "$@" >configure.out ||
		{ cat configure.out; exit 1; }
fi
make -j"$(nproc)" >make.out 2>&1 || { tail -50 make.out; exit 1; }
