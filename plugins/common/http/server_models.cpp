#include "http/server_models.hpp"

#include "http/chat_answer_reading.hpp"
#include "http/curl_handles.hpp"

#include <jarvis/plugin_adapter.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

namespace jarvis {
namespace {

// The model list is a few hundred bytes: a server sending more than this (a camera's stream, a file server) is not
// listing models, and would fill memory until the timeout.
constexpr size_t max_models_bytes = size_t{16} << 20;

struct Collected
{
    std::string body;
    bool too_long = false;
};

size_t append(char* data, size_t size, size_t count, void* target)
{
    auto& collected = *static_cast<Collected*>(target);
    if (collected.body.size() + size * count > max_models_bytes) {
        collected.too_long = true;
        return 0; // ends the transfer
    }
    collected.body.append(data, size * count);
    return size * count;
}

} // namespace

std::vector<std::string> fetch_model_ids(const EndpointConfig& endpoint)
{
    curl::ensure_global_init();
    std::string base = endpoint.base_url;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    const std::string url = base + "/models";
    curl::Easy easy(curl_easy_init());
    if (!easy)
        throw plugin::Error(JV_E_INTERNAL, "cannot create a libcurl handle");
    Collected collected;
    const std::string& body = collected.body;
    char error[CURL_ERROR_SIZE] = {};
    curl_slist* headers = nullptr;
    std::string authorization;
    if (!endpoint.api_key_env.empty())
        if (const char* key = std::getenv(endpoint.api_key_env.c_str()); key != nullptr && *key != '\0')
            headers = curl_slist_append(headers, (authorization = std::string("Authorization: Bearer ") + key).c_str());
    const curl::Slist header_list(headers);
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, header_list.get());
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &collected);
    curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(endpoint.connect_timeout_s * 1000));
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(std::min(endpoint.timeout_s, 30.0) * 1000));
    curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(easy.get());
    if (collected.too_long)
        throw plugin::Error(JV_E_REFUSED, fmt::format("the server at {} sent more than {} MB for its model list: that is not "
                                                      "one; is endpoint.base_url a vLLM server?",
                                                      url, max_models_bytes >> 20));
    if (rc == CURLE_OPERATION_TIMEDOUT)
        throw plugin::Error(JV_E_TIMEOUT, fmt::format("{} timed out: {}", url, error[0] ? error : curl_easy_strerror(rc)));
    if (rc != CURLE_OK)
        throw plugin::Error(JV_E_UNREACHABLE, fmt::format("cannot reach {}: {}", url, error[0] ? error : curl_easy_strerror(rc)));
    long status = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400)
        throw plugin::Error(JV_E_REFUSED, fmt::format("the server refused {} (HTTP {}): {}", url, status, server_error_message(body)),
                            static_cast<int>(status));
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    std::vector<std::string> ids;
    if (doc.is_object() && doc.contains("data") && doc["data"].is_array())
        for (const auto& m : doc["data"])
            if (m.is_object() && m.contains("id") && m["id"].is_string())
                ids.push_back(m["id"].get<std::string>());
    return ids;
}

} // namespace jarvis
