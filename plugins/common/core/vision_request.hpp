#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jarvis {

// One plan/ask request as it crosses the ABI: {"video", "prompt", "loadout"?, "stream"?}.
struct VisionRequest
{
    std::string video;  // a local path or an http(s) URL
    std::string prompt;
    std::optional<std::string> loadout; // overrides the configuration's loadout
    bool stream = false;
};

// Throws ConfigError when the document is not valid JSON or misses a required member.
VisionRequest parse_vision_request(std::string_view json_text);

} // namespace jarvis
