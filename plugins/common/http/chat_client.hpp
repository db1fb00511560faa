#pragma once

#include "config/provider_config.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace jarvis {

struct ChatAnswer
{
    std::string text;
    nlohmann::json usage = nlohmann::json::object();
    double total_s = 0;
};

// Sends a /v1/chat/completions body to the configured endpoint and returns the answer (non-streaming).
// Failures throw plugin::Error: JV_E_UNREACHABLE ("cannot reach <url>: <reason>"), JV_E_TIMEOUT, JV_E_REFUSED (the
// server's own message, with its HTTP status), JV_E_CANCELLED (the call's cancel callback, polled while waiting).
ChatAnswer send_chat(const EndpointConfig& endpoint, const nlohmann::json& body, const plugin::Call& call);

// The message inside an error body: vLLM's nested {"error": {"message"}}, the older flat {"message"}, or the
// body's text itself when it is not JSON (a proxy's HTML page).
std::string server_error_message(const std::string& body);

} // namespace jarvis
