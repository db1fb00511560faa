// What each fuzz target does with one input, shared with the tests that replay every input a fuzzer once
// crashed on (tests/fuzz/regressions/<target>/), so that each crash found stays a test.
#pragma once

#include "config/config_error.hpp"
#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "core/vision_request.hpp"
#include "media/frame_choice.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/h264_headers.hpp"
#include "media/hls_playlist.hpp"
#include "media/matroska_segment.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"
#include "media/video_prefix.hpp"

#include <jarvis/plugin_adapter.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace jarvis::fuzz {

inline void h264_headers(const uint8_t* data, size_t size)
{
    h264::ParameterSets sets;
    (void)h264::read_extradata(data, size, sets);
    h264::for_each_nal(data, size, 4, [&](const uint8_t* nal, size_t n) { (void)h264::read_nal(nal, n, sets); });
    // The same bytes as one NAL after the parameter sets the input may have carried.
    (void)h264::read_nal(data, size, sets);
}

// An HLS playlist's text as a server might send it: read as a master (its variants chosen from at a size the input
// also gives) and as a media playlist; its first line also as a URI resolved against its second. Never a crash, and
// every variant's URL is absolute.
inline void hls_playlist(const uint8_t* data, size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (const auto variants = hls::complete_master_variants(text, "http://example.com/a/b/master.m3u8?x=1")) {
        const int width = size > 0 ? data[0] * 16 : 0;
        const int height = size > 1 ? data[1] * 16 : 0;
        const hls::Variant& chosen = hls::smallest_variant_covering(*variants, width, height);
        if (chosen.width <= 0 || chosen.height <= 0)
            std::abort();
        for (const hls::Variant& v : *variants)
            if (v.url.find(':') == std::string::npos)
                std::abort();
    }
    (void)hls::media_playlist_length(text);
    const size_t line_end = std::min(text.find('\n'), text.size());
    const std::string rest = line_end < text.size() ? text.substr(line_end + 1) : std::string();
    (void)hls::resolve_url(rest.substr(0, rest.find('\n')), text.substr(0, line_end));
}

// Loadouts, configuration documents and requests: each parses or throws ConfigError, nothing else.
inline void documents(const uint8_t* data, size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        (void)parse_loadout(text);
    } catch (const ConfigError&) {
    }
    try {
        (void)parse_provider_config(text, "fuzz");
    } catch (const ConfigError&) {
    }
    try {
        (void)parse_vision_request(text);
    } catch (const ConfigError&) {
    }
}

// A whole video file: probed, indexed and four frames extracted as JPEGs, as a plan would. The input goes to a file
// (FFmpeg reads files the way it reads users' videos, seeking included); each fails as MediaError, ConfigError or a
// cancellation, never otherwise.
inline void container(const uint8_t* data, size_t size)
{
    static const std::string path = [] {
        const auto dir = std::filesystem::temp_directory_path();
        return (dir / ("jarvis-fuzz-container-" + std::to_string(::getpid()) + ".bin")).string();
    }();
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    // Gone after every input, whatever happens: neither the fuzzer nor the tests replaying it leave files behind.
    static const std::string prefix_path = path + ".prefix.mp4";
    struct RemoveAfter
    {
        ~RemoveAfter()
        {
            std::remove(path.c_str());
            std::remove(prefix_path.c_str());
        }
    } remove_after;
    const auto never = [] { return false; };
    // The Matroska Segment reader sees every input's first bytes, not only those FFmpeg takes for Matroska.
    if (const auto segment = matroska::segment_extent(data, size); segment && segment->end < segment->begin)
        std::abort();
    try {
        MediaSource source = MediaSource::open(path, never, 5);
        const FrameIndex index = scan_frame_index(source, never);
        const FrameChoice choice = choose_frames(index, 4, 2.0, std::nullopt, std::nullopt, SeekMode::exact);
        ExtractionRequest request;
        request.source = path;
        request.stream_index = source.stream_index();
        request.codec = source.stream()->codecpar;
        request.width = 64;
        request.height = 48;
        request.rotation_deg = source.info().rotation_deg;
        request.threads = 1;
        request.io_timeout_s = 5;
        (void)extract_frames(request, index, choice.targets, {never, {}, {}});
    } catch (const MediaError&) {
    } catch (const ConfigError&) {
    } catch (const plugin::Error&) {
    }
    try { // probe --video's copy of the first second, whatever the timestamps
        MediaSource source = MediaSource::open(path, never, 5);
        (void)write_video_prefix(source, prefix_path, 1.0);
    } catch (const MediaError&) {
    }
}

} // namespace jarvis::fuzz
