#pragma once

#include "config/provider_config.hpp"

#include <string>
#include <vector>

namespace jarvis {

// GET <base_url>/models: the ids of the models the server serves. Throws plugin::Error (JV_E_UNREACHABLE,
// JV_E_TIMEOUT, JV_E_REFUSED with the server's message) like the chat client.
std::vector<std::string> fetch_model_ids(const EndpointConfig& endpoint);

} // namespace jarvis
