#!/usr/bin/env bash
# Builds the C library of pinecone-assistant and installs it into a prefix:
#
#   PREFIX/lib/libpinecone_assistant.a
#   PREFIX/lib/libpinecone_assistant.so.VERSION   (SONAME libpinecone_assistant.so.MAJOR)
#   PREFIX/lib/libpinecone_assistant.so.MAJOR -> libpinecone_assistant.so.VERSION
#   PREFIX/lib/libpinecone_assistant.so       -> libpinecone_assistant.so.MAJOR
#   PREFIX/include/pinecone_assistant.h         (C)
#   PREFIX/include/pinecone_assistant.hpp       (C++17 wrapper, header-only)
#   PREFIX/lib/pkgconfig/pinecone_assistant.pc
#   PREFIX/lib/cmake/PineconeAssistant/PineconeAssistantConfig.cmake
#   PREFIX/lib/cmake/PineconeAssistant/PineconeAssistantConfigVersion.cmake
#
# Usage: ./install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR]
#                     [--library-type both|shared|static] [--profile NAME]
#
# Run it from anywhere; it builds with the `cargo` on PATH (or $CARGO). DESTDIR
# stages the files under another root, as `make install` does: the installed
# files still name PREFIX. Needs bash, cargo, a C toolchain and coreutils; on
# Linux and other ELF systems only.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR]
                    [--library-type both|shared|static] [--profile NAME]

  --prefix DIR         where to install (default /usr/local)
  --libdir DIR         libraries, pkgconfig/ and cmake/ (default PREFIX/lib)
  --includedir DIR     headers (default PREFIX/include)
  --library-type TYPE  both (default), shared or static: which libraries to install
  --profile NAME       the cargo profile to build with (default release)

DESTDIR=DIR stages the files under DIR; the installed files still name PREFIX.
EOF
}

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

# A mistake on the command line: exit status 2, as for any usage error.
refuse() {
  echo "install.sh: $*" >&2
  exit 2
}

prefix=/usr/local
libdir=
includedir=
library_type=both
profile=release
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case $arg in
    --*=*) set -- "${arg#*=}" "$@"; arg=${arg%%=*} ;;
  esac
  case $arg in
    --prefix | --libdir | --includedir | --library-type | --profile)
      [ $# -gt 0 ] || refuse "$arg needs a value"
      value=$1
      shift
      case $arg in
        --prefix) prefix=$value ;;
        --libdir) libdir=$value ;;
        --includedir) includedir=$value ;;
        --library-type) library_type=$value ;;
        --profile) profile=$value ;;
      esac
      ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; refuse "unknown argument: $arg" ;;
  esac
done

case $library_type in
  both | shared | static) ;;
  *) refuse "--library-type is both, shared or static, not '$library_type'" ;;
esac
case $prefix in
  /*) ;;
  *) refuse "--prefix must be an absolute path, not '$prefix'" ;;
esac
prefix=${prefix%/}
libdir=${libdir:-$prefix/lib}
includedir=${includedir:-$prefix/include}
for dir in "$libdir" "$includedir"; do
  case $dir in
    /*) ;;
    *) refuse "--libdir and --includedir must be absolute paths, not '$dir'" ;;
  esac
done
case "$(uname -s)" in
  Darwin | CYGWIN* | MINGW* | MSYS*) fail "only Linux and other ELF systems are supported" ;;
esac

root=$(cd "$(dirname "$0")" && pwd)
cd "$root"
cargo=${CARGO:-cargo}
templates=$root/ffi/install

# The version, from the ffi crate's package id (`path+file:///...#pinecone-assistant-ffi@0.1.0`).
pkgid=$("$cargo" pkgid -p pinecone-assistant-ffi)
version=${pkgid##*[#@]}
major=${version%%.*}
case $version in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) fail "could not read the version from '$pkgid'" ;;
esac

# Build both libraries and, in the same compiler run, ask rustc which system
# libraries the static one needs: that list is the static link line.
echo "== building the C library ($profile profile)"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
"$cargo" rustc -p pinecone-assistant-ffi --lib --profile "$profile" \
  -- --print native-static-libs 2>&1 | tee "$build_log"
native_libs=$(sed -n 's/.*native-static-libs: *//p' "$build_log" | tail -n 1)
[ -n "$native_libs" ] || fail "rustc did not report the static library's system libraries"

target_dir=$("$cargo" metadata --no-deps --format-version 1 |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
case $profile in
  dev | test) out_dir=$target_dir/debug ;;
  bench) out_dir=$target_dir/release ;;
  *) out_dir=$target_dir/$profile ;;
esac
static_built=$out_dir/libpinecone_assistant_ffi.a
shared_built=$out_dir/libpinecone_assistant_ffi.so
soname=libpinecone_assistant.so.$major
shared_file=libpinecone_assistant.so.$version
for built in "$static_built" "$shared_built"; do
  [ -f "$built" ] || fail "the build did not produce $built"
done
# ffi/build.rs sets the SONAME; the names installed below must agree with it.
if command -v readelf >/dev/null; then
  readelf -d "$shared_built" | grep -q "Library soname: \[$soname\]" ||
    fail "$shared_built does not carry the SONAME $soname"
fi

# A path under PREFIX is written as ${prefix}/..., as pkg-config files usually are.
pc_path() {
  case $1 in
    "$prefix"/*) printf '${prefix}/%s' "${1#"$prefix"/}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# Escapes a value for the replacement side of a sed `s|...|...|`.
sed_value() {
  printf '%s' "$1" | sed 's/[\\&|]/\\&/g'
}

# Writes template $1 to $2 with every @NAME@ replaced.
render() {
  local cmake_libs=${native_libs//-l/}
  sed -e "s|@PREFIX@|$(sed_value "$prefix")|g" \
    -e "s|@PC_LIBDIR@|$(sed_value "$(pc_path "$libdir")")|g" \
    -e "s|@PC_INCLUDEDIR@|$(sed_value "$(pc_path "$includedir")")|g" \
    -e "s|@LIBDIR@|$(sed_value "$libdir")|g" \
    -e "s|@INCLUDEDIR@|$(sed_value "$includedir")|g" \
    -e "s|@VERSION@|$version|g" \
    -e "s|@MAJOR@|$major|g" \
    -e "s|@SONAME@|$soname|g" \
    -e "s|@SHARED_FILE@|$shared_file|g" \
    -e "s|@NATIVE_LIBS@|$(sed_value "$native_libs")|g" \
    -e "s|@CMAKE_NATIVE_LIBS@|$(sed_value "${cmake_libs// /;}")|g" \
    -e "s|@SIZEOF_VOID_P@|$sizeof_void_p|g" \
    "$1" >"$2"
}

pointer_bits=$("${RUSTC:-rustc}" --print cfg | sed -n 's/^target_pointer_width="\([0-9]*\)"/\1/p')
sizeof_void_p=$((pointer_bits / 8))

destdir=${DESTDIR:-}
dest_lib=$destdir$libdir
dest_include=$destdir$includedir
dest_cmake=$dest_lib/cmake/PineconeAssistant
echo "== installing into ${destdir:+$destdir staged for }$prefix"
install -d "$dest_lib" "$dest_include" "$dest_lib/pkgconfig" "$dest_cmake"
installed=()
put() { # mode source destination
  install -m "$1" "$2" "$3"
  installed+=("$3")
}
link() { # target name
  ln -sfn "$1" "$2"
  installed+=("$2 -> $1")
}

put 644 include/pinecone_assistant.h "$dest_include/pinecone_assistant.h"
put 644 include/pinecone_assistant.hpp "$dest_include/pinecone_assistant.hpp"
if [ "$library_type" != shared ]; then
  put 644 "$static_built" "$dest_lib/libpinecone_assistant.a"
fi
if [ "$library_type" != static ]; then
  put 755 "$shared_built" "$dest_lib/$shared_file"
  link "$shared_file" "$dest_lib/$soname"
  link "$soname" "$dest_lib/libpinecone_assistant.so"
fi
render "$templates/pinecone_assistant.pc.in" "$dest_lib/pkgconfig/pinecone_assistant.pc"
installed+=("$dest_lib/pkgconfig/pinecone_assistant.pc")
for name in PineconeAssistantConfig PineconeAssistantConfigVersion; do
  render "$templates/$name.cmake.in" "$dest_cmake/$name.cmake"
  installed+=("$dest_cmake/$name.cmake")
done

printf '  %s\n' "${installed[@]}"
echo "pinecone_assistant $version installed."
if [ "$library_type" != static ] && [ -z "$destdir" ]; then
  echo "If the dynamic loader does not search $libdir, link with -Wl,-rpath,$libdir" \
    "or run ldconfig (system directories)."
fi
