// What each fuzz target does with one input, shared with the tests that replay every input a fuzzer once
// crashed on (tests/fuzz/regressions/<target>/), so that each crash found stays a test.
#pragma once

#include "config/config_error.hpp"
#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "core/vision_request.hpp"
#include "media/h264_headers.hpp"

#include <string>

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

} // namespace jarvis::fuzz
