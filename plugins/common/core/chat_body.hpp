#pragma once

#include "config/loadout.hpp"

#include <nlohmann/json.hpp>

namespace jarvis {

inline constexpr int64_t default_max_tokens = 512;

// The /v1/chat/completions body: one user message with the given content parts.
inline nlohmann::json make_chat_body(const Loadout& loadout, nlohmann::json content, bool stream)
{
    nlohmann::json body = {
        {"model", loadout.model},
        {"messages", nlohmann::json::array({{{"role", "user"}, {"content", std::move(content)}}})},
        {"max_tokens", loadout.max_tokens.value_or(default_max_tokens)},
        {"temperature", 0},
        {"stream", stream},
    };
    if (stream)
        body["stream_options"] = {{"include_usage", true}};
    return body;
}

} // namespace jarvis
