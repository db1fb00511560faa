#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "core/chat_body.hpp"
#include "core/vision_request.hpp"

#include <string_view>

namespace jarvis {

// What every plan or ask starts from: the parsed request, the loadout in force for it, and what was accepted but
// ignored on the way (the configuration's, the request's and the loadout's unknown keys), for the result's warnings.
struct CallSetup
{
    VisionRequest request;
    Loadout loadout;
    bool stream = false; // the request's "stream", else the loadout's #stream
    std::vector<std::string> warnings;
    // This request's context and answer length. The loadout's, except for a follow-up, whose loadout is the one
    // that sampled its video (so that the frames come out the same) while these are the new request's.
    std::optional<int64_t> ctx;
    int64_t max_tokens = 0;
};

// Parses the request; the request's loadout overrides the configuration's, which overrides the default.
inline CallSetup prepare_call(const ProviderConfig& config, std::string_view request_json)
{
    CallSetup s{parse_vision_request(request_json), {}, false, {}, {}, 0};
    const std::string& text = s.request.loadout ? *s.request.loadout : config.loadout;
    s.loadout = parse_loadout(text.empty() ? std::string_view(default_loadout) : std::string_view(text));
    s.stream = s.request.stream.value_or(s.loadout.stream);
    s.ctx = s.loadout.ctx;
    s.max_tokens = s.loadout.max_tokens.value_or(default_max_tokens);
    for (const std::vector<std::string>* list : std::initializer_list<const std::vector<std::string>*>{&config.warnings, &s.request.warnings, &s.loadout.warnings})
        s.warnings.insert(s.warnings.end(), list->begin(), list->end());
    return s;
}

} // namespace jarvis
