// libFuzzer: loadout strings, configuration documents and requests, everything a host hands a plugin as text.
// Each must parse or throw ConfigError: no other exception, no crash, no sanitizer report.
#include "config/config_error.hpp"
#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "core/vision_request.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        (void)jarvis::parse_loadout(text);
    } catch (const jarvis::ConfigError&) {
    }
    try {
        (void)jarvis::parse_provider_config(text, "fuzz");
    } catch (const jarvis::ConfigError&) {
    }
    try {
        (void)jarvis::parse_vision_request(text);
    } catch (const jarvis::ConfigError&) {
    }
    return 0;
}
