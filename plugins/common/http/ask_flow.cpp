#include "http/ask_flow.hpp"

#include "http/chat_client.hpp"

namespace jarvis {

nlohmann::json send_planned_request(const EndpointConfig& endpoint, const nlohmann::json& plan, const plugin::Call& call,
                                    double media_s)
{
    using nlohmann::json;
    call.progress("waiting for the answer", -1);
    const ChatAnswer answer = send_chat(endpoint, plan.at("request"), call);
    return {
        {"answer", answer.text},
        {"finish_reason", answer.finish_reason},
        {"usage", answer.usage},
        {"timings",
         {{"media_s", media_s},
          {"first_token_s", answer.first_token_s < 0 ? json(nullptr) : json(media_s + answer.first_token_s)},
          {"total_s", media_s + answer.total_s}}},
        {"attempts", answer.attempts},
        {"plugin", plan.at("plugin")},
        {"media", plan.at("media")},
        {"estimate", plan.at("estimate")},
        {"warnings", plan.at("warnings")},
    };
}

} // namespace jarvis
