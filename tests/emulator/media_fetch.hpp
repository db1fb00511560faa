#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace jarvis::emulator {

// Where media URLs may come from, as vLLM's MediaConnector allows them.
struct FetchPolicy
{
    std::optional<std::filesystem::path> allowed_local_media_path; // resolved at startup
    double fetch_timeout_s = 30;                                     // VLLM_VIDEO_FETCH_TIMEOUT
};

// A data: URL split as vLLM splits it.
struct DataUrl
{
    std::string media_type; // lower-cased, before the first ';'
    std::string payload;    // the base64 text after the first ','
};

// Parses a data: URL (RFC 2397, base64 only). Throws ApiError with vLLM's messages.
DataUrl parse_data_url(const std::string& url);

// Standard base64, as pybase64.b64decode accepts it. Throws ApiError 400 on bad input.
std::string decode_base64(std::string_view text);

// Fetches an http(s) or file:// URL into memory. Throws ApiError with vLLM's statuses and messages.
std::string fetch_url(const std::string& url, const FetchPolicy& policy);

} // namespace jarvis::emulator
