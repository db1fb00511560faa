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
    call.progress("waiting for the answer", -1);
    return ask_result(send_chat(endpoint, body, stream, call), summary, media_s, media_s);
}

nlohmann::json ask_result(const ChatAnswer& answer, const nlohmann::json& summary, double media_s, double sent_s)
{
    using nlohmann::json;
    return {
        {"answer", answer.text},
        {"finish_reason", answer.finish_reason},
        {"usage", answer.usage},
        {"timings",
         {{"media_s", media_s},
          {"first_token_s", answer.first_token_s < 0 ? json(nullptr) : json(sent_s + answer.first_token_s)},
          {"total_s", sent_s + answer.total_s}}},
        {"attempts", answer.attempts},
        {"plugin", summary.at("plugin")},
        {"media", summary.at("media")},
        {"estimate", summary.at("estimate")},
        {"warnings", summary.at("warnings")},
    };
}

} // namespace jarvis
