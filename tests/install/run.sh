#!/usr/bin/env bash
# Installs the C library with install.sh into temporary prefixes, checks what
# was installed, then builds both examples from the installed copy, as a user
# would, and runs them against the emulator program:
#
#   examples/cpp through CMake find_package: shared, then static;
#   examples/c through pkg-config: shared, then static (from a prefix holding
#   only the static library, so the linker cannot pick the shared one).
#
#   tests/install/run.sh            # from anywhere
#
# Needs cargo, cc, c++, cmake, pkg-config and readelf. Exits non-zero at the
# first check that fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../support/emulator.sh
. "$root/tests/support/emulator.sh"

fail() {
  echo "install check failed: $*" >&2
  exit 1
}

pkgid=$(cargo pkgid -p pinecone-assistant-ffi)
version=${pkgid##*[#@]}
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
soname=libpinecone_assistant.so.$major

echo "== install.sh into $tmp/prefix (both libraries) and $tmp/static (static only)"
./install.sh --prefix "$tmp/prefix"
./install.sh --prefix "$tmp/static" --library-type static >/dev/null

echo "== the installed files"
lib=$tmp/prefix/lib
for file in include/pinecone_assistant.h include/pinecone_assistant.hpp \
  lib/libpinecone_assistant.a "lib/libpinecone_assistant.so.$version" \
  lib/pkgconfig/pinecone_assistant.pc \
  lib/cmake/PineconeAssistant/PineconeAssistantConfig.cmake \
  lib/cmake/PineconeAssistant/PineconeAssistantConfigVersion.cmake; do
  [ -f "$tmp/prefix/$file" ] || fail "$file is missing"
done
[ "$(readlink "$lib/$soname")" = "libpinecone_assistant.so.$version" ] ||
  fail "$soname does not link to libpinecone_assistant.so.$version"
[ "$(readlink "$lib/libpinecone_assistant.so")" = "$soname" ] ||
  fail "libpinecone_assistant.so does not link to $soname"
readelf -d "$lib/libpinecone_assistant.so.$version" | grep "SONAME" |
  grep -q "\[$soname\]" || fail "the shared library's SONAME is not $soname"
readelf -d "$lib/libpinecone_assistant.so.$version" | grep SONAME
[ -f "$tmp/static/lib/libpinecone_assistant.a" ] || fail "the static-only prefix has no archive"
if ls "$tmp/static/lib/"libpinecone_assistant.so* >/dev/null 2>&1; then
  fail "--library-type static installed a shared library"
fi

echo "== a staged install (DESTDIR) with its own libdir"
DESTDIR=$tmp/stage ./install.sh --prefix /opt/pinecone --libdir /opt/pinecone/lib64 >/dev/null
staged=$tmp/stage/opt/pinecone
[ -f "$staged/lib64/libpinecone_assistant.so.$version" ] && [ -f "$staged/include/pinecone_assistant.h" ] ||
  fail "DESTDIR did not stage the files under $staged"
grep -qx 'prefix=/opt/pinecone' "$staged/lib64/pkgconfig/pinecone_assistant.pc" &&
  grep -qx 'libdir=${prefix}/lib64' "$staged/lib64/pkgconfig/pinecone_assistant.pc" ||
  fail "the staged .pc file does not name the final prefix and libdir"
grep -q '"/opt/pinecone/lib64"' "$staged/lib64/cmake/PineconeAssistant/PineconeAssistantConfig.cmake" ||
  fail "the staged CMake package does not name the final libdir"
# A usage mistake is refused with exit status 2 before anything is built.
for bad in "--prefix relative/path" "--library-type dynamic" "--prefix" "--no-such-option"; do
  status=0
  # shellcheck disable=SC2086 # each case is several words
  ./install.sh $bad >/dev/null 2>&1 || status=$?
  [ "$status" = 2 ] || fail "install.sh $bad exited with $status, not 2"
done

echo "== pkg-config"
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion pinecone_assistant)" = "$version" ] || fail "pkg-config --modversion"
shared_flags=$(pkg-config --cflags --libs pinecone_assistant)
static_flags=$(pkg-config --static --cflags --libs pinecone_assistant)
echo "pkg-config --cflags --libs pinecone_assistant:          $shared_flags"
echo "pkg-config --static --cflags --libs pinecone_assistant: $static_flags"
case $static_flags in
  *-lpinecone_assistant*-lpthread*) ;;
  *) fail "--static does not add the system libraries" ;;
esac

echo "== the emulator program"
start_emulator "$tmp/emulator.env" --processing-delay-ms 0 --ready-delay-ms 0 --delete-delay-ms 0

question="How long is the return window?"
documents=(examples/data/orbit-warranty.md examples/data/orbit-troubleshooting.txt)

# Runs a built example ($1, its description $2, then its arguments); its output
# must name the 30-day return window.
run_example() {
  local exe=$1 what=$2
  shift 2
  echo "-- $what"
  "$exe" "$@" | tee "$tmp/out"
  grep -q "30 days" "$tmp/out" || fail "$what did not answer from the documents"
}

# The example links the installed shared library ($2 = shared) or not at all.
check_linkage() {
  local exe=$1 want=$2
  if readelf -d "$exe" | grep NEEDED | grep -q "\[$soname\]"; then
    [ "$want" = shared ] || fail "$exe needs $soname but should be static"
  else
    [ "$want" = static ] || fail "$exe does not need $soname"
    if readelf -d "$exe" | grep NEEDED | grep -q pinecone; then
      fail "$exe needs another pinecone library"
    fi
  fi
}

echo "== examples/cpp through CMake find_package, shared library"
cmake -S examples/cpp -B "$tmp/cpp-shared" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/cmake.log" ||
  { cat "$tmp/cmake.log"; fail "cmake (shared)"; }
grep "PineconeAssistant" "$tmp/cmake.log"
cmake --build "$tmp/cpp-shared" >/dev/null
check_linkage "$tmp/cpp-shared/tour" shared
run_example "$tmp/cpp-shared/tour" "C++ tour, shared" --keep tour-docs "$question" "${documents[@]}"

echo "== examples/c through pkg-config, shared library"
# shellcheck disable=SC2046 # pkg-config's flags are separate words
cc -std=c11 -Wall -Wextra -Werror -pedantic examples/c/chat_stream.c \
  $(pkg-config --cflags --libs pinecone_assistant) \
  -Wl,-rpath,"$(pkg-config --variable=libdir pinecone_assistant)" -o "$tmp/chat_stream_shared"
check_linkage "$tmp/chat_stream_shared" shared
run_example "$tmp/chat_stream_shared" "C chat_stream, shared" tour-docs "$question"

echo "== examples/c through pkg-config --static, static library"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -pedantic examples/c/chat_stream.c \
  $(PKG_CONFIG_PATH=$tmp/static/lib/pkgconfig pkg-config --static --cflags --libs pinecone_assistant) \
  -o "$tmp/chat_stream_static"
check_linkage "$tmp/chat_stream_static" static
run_example "$tmp/chat_stream_static" "C chat_stream, static" tour-docs "$question"

echo "== examples/cpp through CMake find_package, static library"
cmake -S examples/cpp -B "$tmp/cpp-static" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DPineconeAssistant_USE_STATIC_LIBS=ON >"$tmp/cmake.log" ||
  { cat "$tmp/cmake.log"; fail "cmake (static)"; }
grep "PineconeAssistant" "$tmp/cmake.log"
cmake --build "$tmp/cpp-static" >/dev/null
check_linkage "$tmp/cpp-static/tour" static
run_example "$tmp/cpp-static/tour" "C++ tour, static" tour-static "$question" "${documents[@]}"

echo "== the CMake package's version file"
# A fresh project asks for this version, a compatible older one, and ones
# that must be refused; no compiler is needed to find a package.
mkdir -p "$tmp/versions"
cat >"$tmp/versions/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(versions LANGUAGES NONE)
set(CMAKE_SIZEOF_VOID_P $(( $(getconf LONG_BIT) / 8 )))
foreach(wanted "$version" "$major.$minor" "$major.$minor...<$((major + 1)).0")
  find_package(PineconeAssistant \${wanted} CONFIG QUIET)
  if(NOT PineconeAssistant_FOUND)
    message(FATAL_ERROR "PineconeAssistant \${wanted} was refused")
  endif()
  unset(PineconeAssistant_DIR CACHE)
endforeach()
foreach(wanted "$major.$((minor + 1))" "$((major + 1)).0" "$major.$minor.999")
  find_package(PineconeAssistant \${wanted} CONFIG QUIET)
  if(PineconeAssistant_FOUND)
    message(FATAL_ERROR "PineconeAssistant \${wanted} was accepted")
  endif()
  unset(PineconeAssistant_DIR CACHE)
endforeach()
message(STATUS "version checks passed")
EOF
cmake -S "$tmp/versions" -B "$tmp/versions/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" |
  grep "version checks passed" || fail "the version file"

echo "install: ok"
