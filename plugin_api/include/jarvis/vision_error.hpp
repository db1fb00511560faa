// The C++ form of a jv_status and its message, shared by both sides of the boundary: hosts receive it from
// vision_provider.hpp, plugins throw it through plugin_adapter.hpp (which turns it back into a code and a message
// before anything crosses).
#pragma once

#include <jarvis/vision_provider.h>

#include <stdexcept>
#include <string>

namespace jarvis::vision {

class Error : public std::runtime_error
{
public:
    Error(jv_status code, const std::string& message, int http_status = 0)
        : std::runtime_error(message), code_(code), http_status_(http_status)
    {
    }
    jv_status code() const noexcept { return code_; }
    int http_status() const noexcept { return http_status_; }

private:
    jv_status code_;
    int http_status_;
};

} // namespace jarvis::vision
