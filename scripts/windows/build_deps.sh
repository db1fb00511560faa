#!/usr/bin/env bash
# Cross-builds the Windows (x86_64-w64-mingw32) FFmpeg and libcurl the plugins link, from Debian's own source
# packages, so the Windows build decodes with the same FFmpeg version as the Linux one.
# Each library goes to $JARVIS_WINDOWS_CACHE/<name>-<Debian version>/ (FFmpeg's also keyed by its configuration) and
# is reused while that folder is complete.
# Usage: build_deps.sh   (prints the prefixes as FFMPEG_PREFIX=..., CURL_PREFIX=..., HTTPLIB_PREFIX=... and
#                        PCRE2_PREFIX=... on its last lines)
set -euo pipefail
shopt -s inherit_errexit

cache=${JARVIS_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jarvis-vision/windows}
host=x86_64-w64-mingw32
jobs=${JARVIS_JOBS:-2}
toolchain=$(cd "$(dirname "$0")/../.." && pwd)/cmake/toolchains/mingw-w64-x86_64.cmake
mkdir -p "$cache"

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

# apt-get source needs a deb-src line for the archive the binary packages come from.
ensure_deb_src() {
    if apt-get source --print-uris ffmpeg > /dev/null 2>&1; then
        return
    fi
    echo "windows deps: adding Debian's source archive (deb-src) for bookworm"
    "${as_root[@]}" tee /etc/apt/sources.list.d/jarvis-vision-deb-src.sources > /dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    "${as_root[@]}" apt-get update -qq
}

# The version apt would give for a source package ("name" or "name/suite"); the cache key.
source_version() {
    apt-get source --print-uris "$1" 2>/dev/null | awk -v p="${1%%/*}_" '$2 ~ /\.dsc$/ { sub(p, "", $2); sub(/\.dsc$/, "", $2); print $2; exit }'
}

# The newest source of a package when the archive really has it, else the release's ("name/bookworm"): the security
# archive's index can name a source its pool does not serve (seen for pcre2 10.42-1+deb12u2: 404).
downloadable_source() {
    local uri
    uri=$(apt-get source --print-uris "$1" 2>/dev/null | awk -F"'" '$2 ~ /\.dsc$/ { print $2; exit }')
    if [ -n "$uri" ] && curl -sfI -m 60 "$uri" > /dev/null; then
        echo "$1"
    else
        echo "$1/bookworm"
    fi
}

# Unpacks (with Debian's patches applied) the source package into $cache/src/, once.
unpacked_source() {
    local name=$1 version=$2
    local dir="$cache/src/${name%%/*}-$version"
    if [ ! -f "$dir/.unpacked" ]; then
        local tmp="$cache/src/tmp-${name%%/*}"
        rm -rf "$dir" "$tmp"
        mkdir -p "$tmp"
        (cd "$tmp" && apt-get source -qq "$name" > /dev/null 2>&1) || { echo "windows deps: apt-get source $name failed" >&2; exit 1; }
        local unpacked
        unpacked=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
        mv "$unpacked" "$dir"
        rm -rf "$tmp"
        touch "$dir/.unpacked"
    fi
    echo "$dir"
}

# Sets version and prefix (the cache folder keyed by the Debian version, and by $2 when given) for source package $1;
# succeeds when that folder already holds a complete build.
cached_build() {
    version=$(source_version "$1")
    [ -n "$version" ] || { echo "windows deps: apt cannot find the $1 source package" >&2; exit 1; }
    prefix="$cache/${1%%/*}-${version//:/_}${2:+-$2}"
    if [ -f "$prefix/.complete" ]; then
        echo "windows deps: $1 $version cached in $prefix" >&2
        return 0
    fi
    return 1
}

# dav1d (AV1: OBS records it with NVENC on RTX 40 and 50 cards, YouTube serves it), a static library linked into
# FFmpeg's avcodec DLL, built with its Meson and a cross file for the same compiler.
build_dav1d() {
    local version prefix src
    if cached_build dav1d; then
        DAV1D_PREFIX=$prefix
        return
    fi
    src=$(unpacked_source dav1d "$version")
    echo "windows deps: building dav1d $version for $host" >&2
    rm -rf "$prefix" "$cache/build-dav1d"
    mkdir -p "$cache/build-dav1d"
    cat > "$cache/build-dav1d/cross.ini" <<EOF
[binaries]
c = '$host-gcc-posix'
ar = '$host-ar'
strip = '$host-strip'
windres = '$host-windres'
nasm = 'nasm'

[host_machine]
system = 'windows'
cpu_family = 'x86_64'
cpu = 'x86_64'
endian = 'little'
EOF
    meson setup "$cache/build-dav1d/out" "$src" --cross-file "$cache/build-dav1d/cross.ini" --prefix="$prefix" \
        --libdir=lib --buildtype=release --default-library=static -Denable_tools=false -Denable_tests=false \
        -Denable_examples=false > "$cache/build-dav1d/configure.log" 2>&1 \
        || { tail -n 30 "$cache/build-dav1d/configure.log" >&2; exit 1; }
    ninja -C "$cache/build-dav1d/out" -j"$jobs" install > "$cache/build-dav1d/build.log" 2>&1 \
        || { tail -n 30 "$cache/build-dav1d/build.log" >&2; exit 1; }
    rm -rf "$cache/build-dav1d"
    touch "$prefix/.complete"
    DAV1D_PREFIX=$prefix
}

# zlib (the PNG decoder's inflate) from Debian's mingw-w64 package, its static library alone in a folder of its own so
# that the link takes it rather than the import library of a zlib1.dll the distribution does not carry.
static_zlib() {
    ZLIB_PREFIX="$cache/zlib-static"
    mkdir -p "$ZLIB_PREFIX/include" "$ZLIB_PREFIX/lib"
    cp /usr/$host/include/zlib.h /usr/$host/include/zconf.h "$ZLIB_PREFIX/include/"
    cp /usr/$host/lib/libz.a "$ZLIB_PREFIX/lib/"
}

# Only what the plugins and the probe use: the decoders of the videos users have (AV1 through dav1d; GIF, as ScreenToGif
# and ShareX record the screen; WMV, as older Windows tools saved video; WebP pictures, as browsers save images), the
# containers they come in, HLS playlists (their AES-128 segments through the crypto protocol), JPEG and MPEG-4 encoders (frames to
# the model, the probe's test video), scaling, and the file and HTTP(S) protocols (Schannel, Windows' own TLS). Audio
# is never decoded. H.264, HEVC and VP9 can also decode on the GPU through Direct3D 11 (frames.hardware_decode), which
# every Windows GPU driver offers and which needs no SDK (mingw-w64's headers).
ffmpeg_configuration=(
    --arch=x86_64 --target-os=mingw32 --cross-prefix="$host-" --cc="$host-gcc-posix" --cxx="$host-g++-posix"
    --enable-shared --disable-static --disable-programs --disable-doc --disable-debug
    --enable-w32threads --disable-pthreads --enable-schannel
    --disable-everything --disable-avdevice --disable-avfilter --disable-postproc --disable-swresample
    --enable-avcodec --enable-avformat --enable-swscale --enable-network
    --enable-libdav1d --pkg-config=pkg-config --pkg-config-flags=--static --enable-zlib
    --enable-decoder=h264,hevc,vp8,vp9,mpeg4,mpeg2video,mpeg1video,mjpeg,prores,h263,theora,png,libdav1d,gif,webp,wmv1,wmv2,wmv3,vc1
    --enable-encoder=mjpeg,mpeg4
    --enable-parser=h264,hevc,vp8,vp9,mpeg4video,mpegvideo,mjpeg,png,av1,vc1
    --enable-demuxer=mov,matroska,avi,mpegts,flv,h264,hevc,m4v,mjpeg,image2,ogg,mpegps,ivf,hls,gif,asf
    --enable-muxer=mp4,mov
    --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,vp9_superframe_split
    # Both generations of each hwaccel: the second (a frames pool FFmpeg makes from our device) is the one used, but its
    # code is compiled only with the first's.
    --enable-d3d11va --enable-hwaccel=h264_d3d11va,h264_d3d11va2,hevc_d3d11va,hevc_d3d11va2,vp9_d3d11va,vp9_d3d11va2
    --enable-protocol=file,http,https,tcp,tls,crypto
)

build_ffmpeg() {
    local version prefix src key
    # A change to the configuration is a build of its own: a cache made without a decoder would otherwise stay.
    key=$(printf '%s\n' "${ffmpeg_configuration[@]}" "dav1d=$DAV1D_PREFIX" "zlib=$(sha256sum < "$ZLIB_PREFIX/lib/libz.a")" | sha256sum | cut -c1-12)
    if cached_build ffmpeg "$key"; then
        FFMPEG_PREFIX=$prefix
        return
    fi
    src=$(unpacked_source ffmpeg "$version")
    echo "windows deps: building FFmpeg $version for $host (a few minutes on 2 cores)" >&2
    rm -rf "$prefix" "$cache/build-ffmpeg"
    mkdir -p "$cache/build-ffmpeg"
    (cd "$cache/build-ffmpeg" && PKG_CONFIG_LIBDIR="$DAV1D_PREFIX/lib/pkgconfig" "$src/configure" --prefix="$prefix" \
        "${ffmpeg_configuration[@]}" --extra-cflags="-I$ZLIB_PREFIX/include" --extra-ldflags="-L$ZLIB_PREFIX/lib" \
        > configure.log) || { tail -n 30 "$cache/build-ffmpeg/configure.log" >&2; exit 1; }
    # A decoder asked for whose dependency is missing is left out with only a warning.
    if grep -q "^WARNING: Disabled" "$cache/build-ffmpeg/configure.log"; then
        grep "^WARNING: Disabled" "$cache/build-ffmpeg/configure.log" >&2
        exit 1
    fi
    make -C "$cache/build-ffmpeg" -j"$jobs" > "$cache/build-ffmpeg/make.log" 2>&1 \
        || { tail -n 30 "$cache/build-ffmpeg/make.log" >&2; exit 1; }
    make -C "$cache/build-ffmpeg" install > /dev/null
    rm -rf "$cache/build-ffmpeg"
    touch "$prefix/.complete"
    FFMPEG_PREFIX=$prefix
}

build_curl() {
    local version prefix src
    if cached_build curl; then
        CURL_PREFIX=$prefix
        return
    fi
    src=$(unpacked_source curl "$version")
    echo "windows deps: building curl $version for $host with Schannel" >&2
    rm -rf "$prefix" "$cache/build-curl"
    mkdir -p "$cache/build-curl"
    [ -x "$src/configure" ] || (cd "$src" && autoreconf -fi > /dev/null 2>&1)
    (cd "$cache/build-curl" && CC="$host-gcc-posix" "$src/configure" \
        --host="$host" --prefix="$prefix" --enable-shared --disable-static \
        --with-schannel --without-zlib --without-brotli --without-zstd --without-libidn2 \
        --without-nghttp2 --without-libpsl --without-librtmp --without-libssh2 \
        --disable-ldap --disable-ldaps --disable-manual --disable-docs --disable-dict --disable-gopher \
        --disable-imap --disable-pop3 --disable-smtp --disable-telnet --disable-tftp --disable-rtsp --disable-mqtt \
        --disable-smb --disable-ftp --disable-file \
        > configure.log 2>&1) || { tail -n 30 "$cache/build-curl/configure.log" >&2; exit 1; }
    make -C "$cache/build-curl/lib" -j"$jobs" > "$cache/build-curl/make.log" 2>&1 \
        || { tail -n 30 "$cache/build-curl/make.log" >&2; exit 1; }
    make -C "$cache/build-curl/lib" install > /dev/null
    make -C "$cache/build-curl/include" install > /dev/null
    make -C "$cache/build-curl" install-pkgconfigDATA > /dev/null 2>&1 || true
    rm -rf "$cache/build-curl"
    touch "$prefix/.complete"
    CURL_PREFIX=$prefix
}

# PCRE2 (the tokenizer's pre-tokenizer expression), a static library linked into the plugins, built with its CMake
# and the project's toolchain file.
build_pcre2() {
    local version prefix src spec
    spec=$(downloadable_source pcre2)
    if cached_build "$spec"; then
        PCRE2_PREFIX=$prefix
        return
    fi
    src=$(unpacked_source "$spec" "$version")
    echo "windows deps: building PCRE2 $version for $host" >&2
    rm -rf "$prefix" "$cache/build-pcre2"
    cmake -S "$src" -B "$cache/build-pcre2" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=OFF \
        -DPCRE2_BUILD_PCRE2_8=ON -DPCRE2_BUILD_PCRE2_16=OFF -DPCRE2_BUILD_PCRE2_32=OFF -DPCRE2_SUPPORT_JIT=ON \
        -DPCRE2_BUILD_PCRE2GREP=OFF -DPCRE2_BUILD_TESTS=OFF -DPCRE2_SUPPORT_LIBZ=OFF -DPCRE2_SUPPORT_LIBBZ2=OFF \
        -DPCRE2_SUPPORT_LIBREADLINE=OFF -DPCRE2_SUPPORT_LIBEDIT=OFF > "$cache/pcre2-configure.log" 2>&1 \
        || { tail -n 30 "$cache/pcre2-configure.log" >&2; exit 1; }
    cmake --build "$cache/build-pcre2" -j"$jobs" > "$cache/pcre2-build.log" 2>&1 || { tail -n 30 "$cache/pcre2-build.log" >&2; exit 1; }
    cmake --install "$cache/build-pcre2" > /dev/null
    rm -rf "$cache/build-pcre2"
    touch "$prefix/.complete"
    PCRE2_PREFIX=$prefix
}

# Debian's libcpp-httplib-dev is the compiled split; its source package has the single header, the same version.
fetch_httplib() {
    local version prefix src
    if ! cached_build cpp-httplib; then
        src=$(unpacked_source cpp-httplib "$version")
        mkdir -p "$prefix/include"
        cp "$src/httplib.h" "$prefix/include/"
        touch "$prefix/.complete"
    fi
    HTTPLIB_PREFIX=$prefix
}

ensure_deb_src
build_dav1d
static_zlib
build_ffmpeg
build_curl
fetch_httplib
build_pcre2
echo "FFMPEG_PREFIX=$FFMPEG_PREFIX"
echo "CURL_PREFIX=$CURL_PREFIX"
echo "HTTPLIB_PREFIX=$HTTPLIB_PREFIX"
echo "PCRE2_PREFIX=$PCRE2_PREFIX"
