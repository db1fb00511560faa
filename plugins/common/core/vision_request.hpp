#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jarvis {

// One plan/ask request as it crosses the ABI: {"video", "prompt", "loadout"?, "stream"?, "conversation"?}.
struct VisionRequest
{
    std::string video;  // a local path or an http(s) URL
    std::string prompt;
    std::optional<std::string> loadout; // overrides the configuration's loadout
    std::optional<bool> stream;          // unset: the loadout's #stream decides
    // A previous ask result's "conversation": this request continues it (the video may then be left out).
    nlohmann::json conversation;
    // Members this plugin does not know (a newer host's): ignored, and said here.
    std::vector<std::string> warnings;
};

// Throws ConfigError when the document is not valid JSON, misses a required member or has one of the wrong type.
VisionRequest parse_vision_request(std::string_view json_text);

} // namespace jarvis
