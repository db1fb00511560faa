#include "http/curl_handles.hpp"

#include <mutex>

namespace jarvis::curl {

void ensure_global_init()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace jarvis::curl
