#pragma once

#include "config/provider_config.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

namespace jarvis {

// The second half of every ask: sends a plan's request and builds the ask result (docs/contract.md: answer, usage,
// timings, plugin, media, ...). `media_s` is the time the plan took to prepare the media.
nlohmann::json send_planned_request(const EndpointConfig& endpoint, const nlohmann::json& plan, const plugin::Call& call,
                                    double media_s);

// The same for a body already serialised, with `summary` the plan document without its request.
nlohmann::json send_request(const EndpointConfig& endpoint, const std::string& body, bool stream, const nlohmann::json& summary,
                            const plugin::Call& call, double media_s);

} // namespace jarvis
