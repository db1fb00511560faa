#!/usr/bin/env bash
# Builds the Windows distribution on Debian 12: jarvis-host.exe, the two plugin DLLs, every DLL they load and the
# Python package, cross-compiled with mingw-w64, in build/windows/dist/ and build/windows/jarvis-vision-windows-x64.zip.
#   scripts/build_windows.sh          installs what it needs, builds FFmpeg and curl once (cached outside the work
#                                     tree, in $JARVIS_WINDOWS_CACHE or ~/.cache/jarvis-vision/windows), builds the rest
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

bash scripts/setup.sh windows
deps=$(bash scripts/windows/build_deps.sh)
ffmpeg_prefix=$(sed -n 's/^FFMPEG_PREFIX=//p' <<< "$deps")
curl_prefix=$(sed -n 's/^CURL_PREFIX=//p' <<< "$deps")
httplib_prefix=$(sed -n 's/^HTTPLIB_PREFIX=//p' <<< "$deps")
pcre2_prefix=$(sed -n 's/^PCRE2_PREFIX=//p' <<< "$deps")

build=build/windows
cmake -S . -B "$build" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/mingw-w64-x86_64.cmake" \
    -DCMAKE_BUILD_TYPE=Release \
    -DJARVIS_FFMPEG_PREFIX="$ffmpeg_prefix" -DJARVIS_CURL_PREFIX="$curl_prefix" -DJARVIS_HTTPLIB_PREFIX="$httplib_prefix" \
    -DJARVIS_PCRE2_PREFIX="$pcre2_prefix" \
    -DCMAKE_INSTALL_PREFIX="$PWD/$build/dist" > /dev/null
cmake --build "$build" -j"${JARVIS_JOBS:-2}"

# The distribution: the install tree (bin/, lib/jarvis/plugins/) and the Python package with its DLLs inside.
rm -rf "$build/dist"
cmake --install "$build" > /dev/null
cp -r "$build/python" "$build/dist/python"
rm -f "$build/dist/python/stamp"
cp bindings/python/README.md "$build/dist/README-python.md"
cp docs/windows.md "$build/dist/README.md"

zip_file="$PWD/$build/jarvis-vision-windows-x64.zip"
rm -f "$zip_file"
(cd "$build/dist" && zip -qr9 "$zip_file" .)
echo "windows: $build/dist and $(basename "$zip_file") ($(du -k "$zip_file" | cut -f1) KB)"
