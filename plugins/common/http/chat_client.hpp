#pragma once

#include "config/provider_config.hpp"
#include "http/streamed_body.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace jarvis {

struct ChatAnswer
{
    std::string text;
    nlohmann::json usage = nlohmann::json::object();
    std::string finish_reason;
    double first_token_s = -1; // from sending the request to the first piece of answer text; -1 when none came
    double total_s = 0;
    int attempts = 0;
};

// Sends a /v1/chat/completions body to the endpoint. When body["stream"] is true the answer arrives as server-sent
// events and each piece of text goes to call.text() as it comes, in whole UTF-8 characters.
//
// Connection failures and HTTP 503 are retried (3 attempts, backoff) while no answer byte has arrived. The call's
// cancel callback is polled every 50 ms; cancelling closes the connection, which is how vLLM learns to stop.
// Failures throw plugin::Error: JV_E_UNREACHABLE ("cannot reach <url>: <reason>", or a connection lost mid-answer),
// JV_E_TIMEOUT, JV_E_REFUSED (the server's own message and HTTP status, also for an error event mid-stream),
// JV_E_CANCELLED.
ChatAnswer send_chat(const EndpointConfig& endpoint, const nlohmann::json& body, const plugin::Call& call);

// The same for a body already serialised (a data-URL body is built in place and not copied again).
ChatAnswer send_chat(const EndpointConfig& endpoint, const std::string& body, bool stream, const plugin::Call& call);

// The same for a body still being written (the frames of a video still being decoded): it goes out as it grows, in
// HTTP chunks. A body that fails aborts the request before its end, so the server never takes it for whole, and its
// failure is what this throws. The timeout counts from when the body is whole. `between_polls` runs on the calling
// thread at least every 50 ms while the request is under way (to relay a writer's progress and cancellation).
ChatAnswer send_chat(const EndpointConfig& endpoint, StreamedBody& body, bool stream, const plugin::Call& call,
                     const std::function<void()>& between_polls);

} // namespace jarvis
