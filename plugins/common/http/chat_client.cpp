#include "http/chat_client.hpp"

#include "http/curl_handles.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

namespace jarvis {

namespace {

size_t append_body(char* data, size_t size, size_t count, void* target)
{
    static_cast<std::string*>(target)->append(data, size * count);
    return size * count;
}

int poll_cancel(void* call, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    return static_cast<const plugin::Call*>(call)->cancelled() ? 1 : 0;
}

std::string chat_url(const EndpointConfig& endpoint)
{
    std::string base = endpoint.base_url;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base + "/chat/completions";
}

} // namespace

std::string server_error_message(const std::string& body)
{
    const auto doc = nlohmann::json::parse(body, nullptr, false);
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

ChatAnswer send_chat(const EndpointConfig& endpoint, const nlohmann::json& body, const plugin::Call& call)
{
    curl::ensure_global_init();
    curl::Easy easy(curl_easy_init());
    if (!easy)
        throw plugin::Error(JV_E_INTERNAL, "curl_easy_init failed");

    const std::string url = chat_url(endpoint);
    const std::string payload = body.dump();
    std::string response;
    char error_buffer[CURL_ERROR_SIZE] = {};

    curl_slist* raw_headers = curl_slist_append(nullptr, "Content-Type: application/json");
    std::string authorization;
    if (!endpoint.api_key_env.empty()) {
        if (const char* key = std::getenv(endpoint.api_key_env.c_str()); key != nullptr && *key != '\0') {
            authorization = std::string("Authorization: Bearer ") + key;
            raw_headers = curl_slist_append(raw_headers, authorization.c_str());
        }
    }
    const curl::Slist headers(raw_headers);

    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(endpoint.connect_timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(endpoint.timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    // The cancel callback is polled through curl's progress callback, so a cancelled call closes the connection,
    // which is how vLLM learns to stop generating.
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &poll_cancel);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &call);

    const auto start = std::chrono::steady_clock::now();
    const CURLcode rc = curl_easy_perform(h);
    ChatAnswer answer;
    answer.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const std::string reason = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_OK: break;
    case CURLE_ABORTED_BY_CALLBACK: throw plugin::Error(JV_E_CANCELLED, "cancelled");
    case CURLE_OPERATION_TIMEDOUT:
        throw plugin::Error(JV_E_TIMEOUT, fmt::format("{} timed out: {}", url, reason));
    default: throw plugin::Error(JV_E_UNREACHABLE, fmt::format("cannot reach {}: {}", url, reason));
    }

    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400)
        throw plugin::Error(JV_E_REFUSED,
                            fmt::format("the server refused the request (HTTP {}): {}", status, server_error_message(response)),
                            static_cast<int>(status));

    const auto doc = nlohmann::json::parse(response, nullptr, false);
    if (!doc.is_object() || !doc.contains("choices") || !doc["choices"].is_array() || doc["choices"].empty())
        throw plugin::Error(JV_E_REFUSED, fmt::format("the server at {} answered HTTP {} without a chat completion: {}",
                                                      url, status, server_error_message(response)),
                            static_cast<int>(status));
    const auto& message = doc["choices"][0].value("message", nlohmann::json::object());
    answer.text = message.value("content", nlohmann::json()).is_string() ? message["content"].get<std::string>() : "";
    if (doc.contains("usage") && doc["usage"].is_object())
        answer.usage = doc["usage"];
    return answer;
}

} // namespace jarvis
