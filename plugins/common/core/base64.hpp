#pragma once

extern "C" {
#include <libavutil/base64.h>
}

#include <climits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jarvis {

// Appends the standard base64 (RFC 4648, with padding) of `bytes` to `out`, with libavutil's encoder.
inline void append_base64(std::string& out, std::string_view bytes)
{
    if (bytes.size() > static_cast<size_t>((INT_MAX - 1) / 4 * 3 - 2))
        throw std::length_error("base64: more than 1.5 GB in one piece");
    const auto size = static_cast<int>(bytes.size());
    const size_t start = out.size();
    out.resize(start + AV_BASE64_SIZE(size)); // with room for the terminating NUL av_base64_encode writes
    av_base64_encode(out.data() + start, AV_BASE64_SIZE(size), reinterpret_cast<const uint8_t*>(bytes.data()), size);
    out.pop_back();
}

} // namespace jarvis
