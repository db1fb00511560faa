#!/usr/bin/env bash
# On demand: builds another FFmpeg from a Debian source package (default: Debian 13's, FFmpeg 7.1) into a cache,
# builds the project against it and runs the tests that exercise the media code there:
#   1. as users would get it: the H.264 reference replay is off on an FFmpeg it was not checked against (see
#      plugins/common/media/h264_references.cpp), and every test must still pass (frames identical, only fewer
#      pictures skipped);
#   2. with JARVIS_H264_REPLAY_UNCHECKED=1, which turns the replay on anyway: the bit-exact skipping tests then say
#      whether the replay's model of FFmpeg's reference handling still holds for that version.
# The cache is $JARVIS_FFMPEG_CHECK_CACHE (default ~/.cache/jarvis-vision/ffmpeg-check); a second run reuses the build.
# Usage: scripts/check_ffmpeg_versions.sh [SUITE]   (SUITE: a Debian suite with the source package, default trixie)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
suite=${1:-trixie}
jobs=${JARVIS_JOBS:-2}
cache=${JARVIS_FFMPEG_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jarvis-vision/ffmpeg-check}
bash scripts/setup.sh ffmpeg-check
mkdir -p "$cache/apt/lists/partial"

# A private apt state that knows only the suite's sources: the system's own sources are left alone.
cat > "$cache/apt/$suite.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_opts=(-o "Dir::Etc::SourceList=$cache/apt/$suite.sources" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$cache/apt/lists" -o Dir::State::Status=/dev/null -o Debug::NoLocking=1)
apt-get "${apt_opts[@]}" update -qq
version=$(apt-get "${apt_opts[@]}" source --print-uris ffmpeg 2>/dev/null |
          awk '$2 ~ /^ffmpeg_.*\.dsc$/ { sub(/^ffmpeg_/, "", $2); sub(/\.dsc$/, "", $2); print $2; exit }')
[ -n "$version" ] || { echo "check_ffmpeg_versions: no ffmpeg source package in $suite" >&2; exit 1; }
prefix="$cache/ffmpeg-${version//:/_}"

# FFmpeg 7.1's Vulkan decoding needs Vulkan headers of 1.3.277 or later; Debian 12's are 1.3.239. The suite's
# vulkan-loader source carries its own copy: used for FFmpeg's build only (the loader itself is the system's, which
# FFmpeg opens at run time), so that the tests that decode on a Vulkan device (lavapipe) run against this FFmpeg too.
vulkan_headers=$cache/vulkan-headers
if [ ! -f "$vulkan_headers/.unpacked" ]; then
    rm -rf "$vulkan_headers" "$cache/src/vulkan-tmp"
    mkdir -p "$cache/src/vulkan-tmp"
    (cd "$cache/src/vulkan-tmp" && apt-get "${apt_opts[@]}" source -qq --download-only vulkan-loader > /dev/null)
    tar -xJf "$(find "$cache/src/vulkan-tmp" -name 'vulkan-loader_*.orig.tar.xz' | head -n1)" -C "$cache/src/vulkan-tmp" \
        --wildcards '*/vulkan-headers/include/*'
    mv "$(find "$cache/src/vulkan-tmp" -type d -path '*/vulkan-headers/include' | head -n1)" "$vulkan_headers"
    rm -rf "$cache/src/vulkan-tmp"
    [ -f "$vulkan_headers/vulkan/vulkan_core.h" ] || { echo "check_ffmpeg_versions: no Vulkan headers in $suite's vulkan-loader" >&2; exit 1; }
    touch "$vulkan_headers/.unpacked"
fi

# What the plugins, the emulator and the tests decode and encode (AV1 through dav1d, as Debian's build does; GIF,
# WMV and WebP, which screen recorders and older tools save), HLS playlists with AES-128 segments (crypto), and
# decoding on a Vulkan device.
configure_flags=(
    --prefix="$prefix"
    --enable-shared --disable-static --disable-programs --disable-doc
    --disable-everything --disable-avdevice --disable-avfilter --disable-postproc --disable-swresample
    --enable-avcodec --enable-avformat --enable-swscale --enable-network --enable-libdav1d
    --enable-vulkan --extra-cflags="-I$vulkan_headers" --enable-hwaccel=h264_vulkan,hevc_vulkan,av1_vulkan
    --enable-decoder=h264,hevc,vp8,vp9,libdav1d,mpeg4,mpeg2video,mpeg1video,mjpeg,prores,h263,theora,png,gif,wmv1,wmv2,webp
    --enable-encoder=mjpeg,mpeg4,png
    --enable-parser=h264,hevc,vp8,vp9,mpeg4video,mpegvideo,mjpeg,png,av1,gif,webp
    --enable-demuxer=mov,matroska,avi,mpegts,flv,h264,hevc,m4v,mjpeg,image2,ogg,mpegps,ivf,jpeg_pipe,png_pipe,hls,gif,asf,webp_pipe
    --enable-muxer=mp4,mov,matroska,mjpeg
    --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,vp9_superframe_split
    --enable-protocol=file,http,tcp,pipe,crypto
)

# A build made with other flags (an earlier version of this script) is made again.
if [ "$(cat "$prefix/.complete" 2>/dev/null)" != "${configure_flags[*]}" ]; then
    src="$cache/src/ffmpeg-$version"
    if [ ! -f "$src/.unpacked" ]; then
        rm -rf "$src" "$cache/src/tmp"
        mkdir -p "$cache/src/tmp"
        (cd "$cache/src/tmp" && apt-get "${apt_opts[@]}" source -qq ffmpeg > /dev/null)
        mv "$(find "$cache/src/tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)" "$src"
        rm -rf "$cache/src/tmp"
        touch "$src/.unpacked"
    fi
    echo "check_ffmpeg_versions: building FFmpeg $version (several minutes on 2 cores)"
    rm -rf "$prefix" "$cache/build"
    mkdir -p "$cache/build"
    (cd "$cache/build" && "$src/configure" "${configure_flags[@]}" > configure.log) ||
        { tail -n 30 "$cache/build/configure.log" >&2; exit 1; }
    make -C "$cache/build" -j"$jobs" > "$cache/build/make.log" 2>&1 || { tail -n 30 "$cache/build/make.log" >&2; exit 1; }
    make -C "$cache/build" install > /dev/null
    rm -rf "$cache/build"
    printf '%s' "${configure_flags[*]}" > "$prefix/.complete"
fi

build="build/ffmpeg-${version//:/_}"
echo "check_ffmpeg_versions: building the project against FFmpeg $version in $build"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug > /dev/null
cmake --build "$build" -j"$jobs" --target media_tests plugin_tests frame_slicer_tests native_video_tests
linked=$(ldd "$build/bin/media_tests" | awk '/libavcodec/ { print $3 }')
case $linked in
    "$prefix"/*) echo "check_ffmpeg_versions: media_tests uses $linked" ;;
    *) echo "check_ffmpeg_versions: media_tests is linked against '$linked', not $prefix" >&2; exit 1 ;;
esac

status=0
labels='media|plugins|frame_slicer|native_video'
echo "=== FFmpeg $version, as users get it (the replay is off unless this FFmpeg is a checked series)"
ctest --test-dir "$build" -L "$labels" -j"$jobs" --output-on-failure || status=1
echo "=== FFmpeg $version, replay forced on (JARVIS_H264_REPLAY_UNCHECKED=1): does its model of FFmpeg still hold?"
JARVIS_H264_REPLAY_UNCHECKED=1 ctest --test-dir "$build" -L media -j"$jobs" --output-on-failure || status=2
exit $status
