#include "http/url_text.hpp"

#include "http/curl_handles.hpp"

#include <stdexcept>

namespace jarvis {

std::string file_url(const std::string& absolute_path)
{
    const curl::Url url(curl_url());
    if (!url)
        throw std::bad_alloc();
    char* text = nullptr;
    if (curl_url_set(url.get(), CURLUPART_URL, "file:///", 0) != CURLUE_OK ||
        curl_url_set(url.get(), CURLUPART_PATH, absolute_path.c_str(), CURLU_URLENCODE) != CURLUE_OK ||
        curl_url_get(url.get(), CURLUPART_URL, &text, 0) != CURLUE_OK)
        throw std::invalid_argument("cannot make a file:// URL of '" + absolute_path + "'");
    return curl::String(text).get();
}

std::string percent_decode(std::string_view text)
{
    int length = 0;
    // The handle argument is ignored since libcurl 7.82.
    const curl::String decoded(curl_easy_unescape(nullptr, text.data(), static_cast<int>(text.size()), &length));
    if (!decoded)
        throw std::bad_alloc();
    return std::string(decoded.get(), static_cast<size_t>(length));
}

} // namespace jarvis
