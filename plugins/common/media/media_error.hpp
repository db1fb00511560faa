#pragma once

#include <stdexcept>

namespace jarvis {

// The media layer's failures, its own types: the plugin boundary (core/error_codes.hpp) gives them their ABI codes.

// The video cannot be used: missing, unreadable, not a video, no video stream, undecodable. The message names the
// source and the reason. Hosts exit with code 3 on it.
class MediaError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// The caller's `cancelled` callback said stop; the work was abandoned and nothing it made is left behind.
class MediaCancelled : public std::runtime_error
{
public:
    MediaCancelled() : std::runtime_error("cancelled") {}
};

} // namespace jarvis
