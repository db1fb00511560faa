#pragma once

#include <stdexcept>

namespace jarvis {

// The video cannot be used: missing, unreadable, not a video, no video stream, undecodable. The message names the
// source and the reason. Hosts exit with code 3 on it.
class MediaError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

} // namespace jarvis
