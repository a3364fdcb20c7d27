#!/usr/bin/env bash
# Builds the WAL hook (walship.c) for every platform walship ships, into the resources the jar
# carries, and records the SHA-256 of the source they were built from. Run it after changing
# walship.c and commit what it writes: the Maven build never compiles C (no gcc, no SQLite
# headers on a user's machine), and NativeBinariesTest fails while the recorded hash differs.
#
# Needs (Debian 12): gcc gcc-aarch64-linux-gnu gcc-mingw-w64-x86-64 clang lld libsqlite3-dev
# The extension uses no C library (SQLite's API table only), so no macOS or Windows SDK is needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/walship.c"
out="$here/../resources/io/walship/internal/capture/native"

# only SQLite's two headers, so no platform's libc headers get in the way
include="$(mktemp -d)"
trap 'rm -rf "$include"' EXIT
cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$include/"

common=(-O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector -fvisibility=hidden -nostdlib
        -I"$include" -shared)
elf=(-fPIC -Wl,--build-id=none -Wl,-z,noexecstack -s)

build() { # platform file compiler flags...
  local platform="$1" file="$2" cc="$3"
  shift 3
  mkdir -p "$out/$platform"
  "$cc" "${common[@]}" "$@" -o "$out/$platform/$file" "$src"
  echo "built $platform/$file ($(wc -c < "$out/$platform/$file") bytes)"
}

build linux-x86_64   libwalship.so    gcc                   "${elf[@]}"
build linux-aarch64  libwalship.so    aarch64-linux-gnu-gcc "${elf[@]}"
build windows-x86_64 walship.dll      x86_64-w64-mingw32-gcc -Wl,--no-insert-timestamp -s
build macos-x86_64   libwalship.dylib clang -target x86_64-apple-macos10.13 -fuse-ld=lld -fPIC
build macos-aarch64  libwalship.dylib clang -target arm64-apple-macos11 -fuse-ld=lld -fPIC

(cd "$here" && sha256sum walship.c) | cut -d' ' -f1 > "$out/walship.c.sha256"
echo "recorded source hash $(cat "$out/walship.c.sha256")"
