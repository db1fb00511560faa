#include "media_fetch.hpp"

#include "api_error.hpp"
#include "http/curl_handles.hpp"
#include "http/url_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

namespace jarvis::emulator {
namespace {

namespace fs = std::filesystem;

bool starts_with_ci(const std::string& s, std::string_view prefix)
{
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

size_t append(char* data, size_t size, size_t count, void* target)
{
    static_cast<std::string*>(target)->append(data, size * count);
    return size * count;
}

std::string fetch_http(const std::string& url, const FetchPolicy& policy)
{
    curl::ensure_global_init();
    curl::Easy easy(curl_easy_init());
    std::string body;
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(policy.fetch_timeout_s * 1000));
    curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_USERAGENT, "vLLM/emulator");
    const CURLcode rc = curl_easy_perform(easy.get());
    if (rc != CURLE_OK)
        // vLLM passes DNS failures and timeouts through unwrapped: they surface as 500.
        throw ApiError(500, "InternalServerError", fmt::format("Cannot fetch {}: {}", url, error[0] ? error : curl_easy_strerror(rc)));
    long status = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
    // The log line lets tests see what was fetched (and check afterwards that the URL is dead).
    std::cerr << "vlm-emulator: fetched " << url << " (HTTP " << status << ", " << body.size() << " bytes)" << std::endl;
    if (status >= 400 && status != 408 && status != 429 && status < 500)
        throw ApiError(422, "UnprocessableEntityError", fmt::format("Failed to fetch media from URL: HTTP {} error", status),
                       "image_url");
    if (status >= 400)
        throw ApiError(500, "InternalServerError", fmt::format("Server error '{}' for url '{}'", status, url));
    return body;
}

std::string fetch_file(const std::string& url, const FetchPolicy& policy)
{
    if (!policy.allowed_local_media_path)
        throw ApiError(500, "InternalServerError", "Cannot load local files without `--allowed-local-media-path`.");
    // Path(url2pathname(netloc + path)): file://abs/x puts "abs" in the netloc and yields a relative path.
    const std::string rest = url.substr(std::string("file://").size());
    const fs::path path = percent_decode(rest);
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(fs::absolute(path), ec);
    const fs::path& allowed = *policy.allowed_local_media_path;
    bool inside = false;
    for (fs::path p = resolved.parent_path(); !p.empty(); p = p.parent_path()) {
        if (p == allowed) {
            inside = true;
            break;
        }
        if (p == p.parent_path())
            break;
    }
    if (!inside)
        throw ApiError::bad_request(fmt::format("The file path {} must be a subpath of `--allowed-local-media-path {}`.",
                                                resolved.string(), allowed.string()));
    std::ifstream in(resolved, std::ios::binary);
    if (!in)
        throw ApiError(500, "InternalServerError", fmt::format("[Errno 2] No such file or directory: '{}'", resolved.string()));
    std::stringstream bytes;
    bytes << in.rdbuf();
    // Like the fetch line: tests see which file the server read (a staged copy, a file in the volume).
    // The link count shows whether a client staged the file by hard link (2 or more) or by copy (1).
    std::cerr << "vlm-emulator: read " << resolved.string() << " (" << bytes.str().size() << " bytes, "
              << fs::hard_link_count(resolved, ec) << " links)" << std::endl;
    return bytes.str();
}

} // namespace

DataUrl parse_data_url(const std::string& url)
{
    if (!starts_with_ci(url, "data:"))
        throw ApiError::bad_request(fmt::format("Invalid data URL '{}': it does not start with 'data:'.", url.substr(0, 32)));
    const std::string rest = url.substr(5);
    const size_t comma = rest.find(',');
    if (comma == std::string::npos)
        throw ApiError::bad_request(fmt::format("Invalid data URL '{}': missing ',' separator.", url.substr(0, 32)));
    const std::string header = rest.substr(0, comma);
    const size_t last_semicolon = header.rfind(';');
    if (last_semicolon == std::string::npos || header.substr(last_semicolon + 1) != "base64")
        throw ApiError(501, "NotImplementedError", "Only base64 data URLs are supported for now.");
    DataUrl d;
    d.media_type = header.substr(0, header.find(';'));
    std::transform(d.media_type.begin(), d.media_type.end(), d.media_type.begin(), [](unsigned char c) { return std::tolower(c); });
    d.payload = rest.substr(comma + 1);
    return d;
}

std::string decode_base64(std::string_view text)
{
    static const auto table = [] {
        std::array<int, 256> t{};
        t.fill(-1);
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i)
            t[static_cast<unsigned char>(alphabet[i])] = i;
        return t;
    }();
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t bits = 0;
    int count = 0;
    size_t padding = 0;
    for (char c : text) {
        if (c == '=') {
            ++padding;
            continue;
        }
        if (c == '\n' || c == '\r')
            continue;
        const int v = table[static_cast<unsigned char>(c)];
        if (v < 0 || padding > 0)
            throw ApiError::bad_request("Invalid base64-encoded string");
        bits = bits << 6 | static_cast<uint32_t>(v);
        if (++count == 4) {
            out += static_cast<char>(bits >> 16);
            out += static_cast<char>(bits >> 8);
            out += static_cast<char>(bits);
            bits = 0;
            count = 0;
        }
    }
    if (count == 1)
        throw ApiError::bad_request("Invalid base64-encoded string: number of data characters cannot be 1 more than a multiple of 4");
    if (count == 2)
        out += static_cast<char>(bits >> 4);
    if (count == 3) {
        out += static_cast<char>(bits >> 10);
        out += static_cast<char>(bits >> 2);
    }
    return out;
}

std::string fetch_url(const std::string& url, const FetchPolicy& policy)
{
    if (starts_with_ci(url, "http://") || starts_with_ci(url, "https://"))
        return fetch_http(url, policy);
    if (starts_with_ci(url, "file:"))
        return fetch_file(url, policy);
    throw ApiError::bad_request("The URL must be either a HTTP, data or file URL.");
}

} // namespace jarvis::emulator
