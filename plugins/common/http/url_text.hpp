#pragma once

#include <string>
#include <string_view>

namespace jarvis {

// A file:// URL (three slashes) for an absolute POSIX path, each byte outside RFC 3986's unreserved set and '/'
// percent-encoded (libcurl's URL API). Throws std::invalid_argument for a path libcurl refuses.
std::string file_url(const std::string& absolute_path);

// Percent-decoding (libcurl's): %XX becomes its byte, anything else stays as it is.
std::string percent_decode(std::string_view text);

} // namespace jarvis
