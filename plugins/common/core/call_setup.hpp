#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "core/vision_request.hpp"

#include <string_view>

namespace jarvis {

// What every plan or ask starts from: the parsed request and the loadout in force for it.
struct CallSetup
{
    VisionRequest request;
    Loadout loadout;
};

// Parses the request; the request's loadout overrides the configuration's, which overrides the default.
inline CallSetup prepare_call(const ProviderConfig& config, std::string_view request_json)
{
    CallSetup s{parse_vision_request(request_json), {}};
    const std::string& text = s.request.loadout ? *s.request.loadout : config.loadout;
    s.loadout = parse_loadout(text.empty() ? std::string_view(default_loadout) : std::string_view(text));
    return s;
}

} // namespace jarvis
