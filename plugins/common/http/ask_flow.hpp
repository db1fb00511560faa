#pragma once

#include "config/provider_config.hpp"
#include "http/chat_client.hpp"

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

// The ask result for an answer. `media_s` is the time the media took to prepare and `sent_s` when the request began
// to go out, both from the ask's start: the same, unless the request went while the media was still being prepared.
nlohmann::json ask_result(const ChatAnswer& answer, const nlohmann::json& summary, double media_s, double sent_s);

} // namespace jarvis
