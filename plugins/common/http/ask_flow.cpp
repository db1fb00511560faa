#include "http/ask_flow.hpp"

#include "http/chat_client.hpp"

namespace jarvis {

nlohmann::json send_planned_request(const EndpointConfig& endpoint, const nlohmann::json& plan, const plugin::Call& call,
                                    double media_s)
{
    const nlohmann::json& request = plan.at("request");
    return send_request(endpoint, request.dump(), request.value("stream", false), plan, call, media_s);
}

nlohmann::json send_request(const EndpointConfig& endpoint, const std::string& body, bool stream, const nlohmann::json& summary,
                            const plugin::Call& call, double media_s)
{
    using nlohmann::json;
    call.progress("waiting for the answer", -1);
    const ChatAnswer answer = send_chat(endpoint, body, stream, call);
    return {
        {"answer", answer.text},
        {"finish_reason", answer.finish_reason},
        {"usage", answer.usage},
        {"timings",
         {{"media_s", media_s},
          {"first_token_s", answer.first_token_s < 0 ? json(nullptr) : json(media_s + answer.first_token_s)},
          {"total_s", media_s + answer.total_s}}},
        {"attempts", answer.attempts},
        {"plugin", summary.at("plugin")},
        {"media", summary.at("media")},
        {"estimate", summary.at("estimate")},
        {"warnings", summary.at("warnings")},
    };
}

} // namespace jarvis
