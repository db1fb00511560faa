#include "http/chat_answer_reading.hpp"

#include <charconv>

namespace jarvis {

using nlohmann::json;

namespace {

// A member of a JSON object, or null when `j` is no object or lacks it.
const json& member(const json& j, const char* key)
{
    static const json none;
    if (!j.is_object())
        return none;
    const auto found = j.find(key);
    return found != j.end() ? *found : none;
}

const json& first_choice(const json& doc)
{
    static const json none;
    const json& choices = member(doc, "choices");
    return choices.is_array() && !choices.empty() ? choices.front() : none;
}

std::optional<std::string> string_of(const json& j)
{
    return j.is_string() ? std::optional<std::string>(j.get<std::string>()) : std::nullopt;
}

} // namespace

int error_status_of(const json& error)
{
    const json& code = member(error, "code");
    const std::string digits = code.is_string() ? code.get<std::string>() : code.is_number_integer() ? code.dump() : "";
    int status = 0;
    const auto [end, failure] = std::from_chars(digits.data(), digits.data() + digits.size(), status);
    const bool whole = failure == std::errc() && end == digits.data() + digits.size();
    return whole && status >= 100 && status <= 599 ? status : 500;
}

StreamEvent read_stream_event(std::string_view data)
{
    StreamEvent event;
    if (data == "[DONE]") {
        event.done = true;
        return event;
    }
    const json doc = json::parse(data, nullptr, false);
    if (!doc.is_object())
        return event;
    if (doc.contains("error")) {
        event.error_status = error_status_of(doc["error"]);
        event.error_message = server_error_message(std::string(data));
        return event;
    }
    if (member(doc, "usage").is_object())
        event.usage = doc["usage"];
    const json& choice = first_choice(doc);
    event.finish_reason = string_of(member(choice, "finish_reason"));
    event.content = string_of(member(member(choice, "delta"), "content")).value_or("");
    return event;
}

std::optional<ChatAnswer> read_whole_answer(const std::string& body)
{
    const json doc = json::parse(body, nullptr, false);
    const json& choice = first_choice(doc);
    if (!choice.is_object())
        return std::nullopt;
    ChatAnswer answer;
    answer.text = string_of(member(member(choice, "message"), "content")).value_or("");
    answer.finish_reason = string_of(member(choice, "finish_reason")).value_or("");
    if (member(doc, "usage").is_object())
        answer.usage = doc["usage"];
    return answer;
}

std::string server_error_message(const std::string& body)
{
    const auto doc = json::parse(body, nullptr, false);
    if (doc.is_object()) {
        if (doc.contains("error") && doc["error"].is_object() && doc["error"].contains("message"))
            return doc["error"]["message"].is_string() ? doc["error"]["message"].get<std::string>() : doc["error"]["message"].dump();
        if (doc.contains("message") && doc["message"].is_string())
            return doc["message"].get<std::string>();
        if (doc.contains("detail"))
            return doc["detail"].is_string() ? doc["detail"].get<std::string>() : doc["detail"].dump();
    }
    std::string text = body.substr(0, 300);
    for (char& c : text)
        if (c == '\n' || c == '\r')
            c = ' ';
    return text.empty() ? "(empty body)" : text;
}

} // namespace jarvis
