#include "exit_codes.hpp"

namespace jarvis::host {

ExitCode exit_code_for(jv_status status)
{
    switch (status) {
    case JV_OK: return exit_ok;
    case JV_E_INVALID_ARGUMENT: return exit_usage;
    case JV_E_MEDIA: return exit_media;
    case JV_E_UNREACHABLE: return exit_unreachable;
    case JV_E_REFUSED: return exit_refused;
    case JV_E_TIMEOUT: return exit_timeout;
    case JV_E_CANCELLED: return exit_cancelled;
    default: return exit_internal;
    }
}

std::string error_kind(ExitCode code)
{
    switch (code) {
    case exit_usage: return "usage";
    case exit_media: return "media";
    case exit_unreachable: return "unreachable";
    case exit_refused: return "refused";
    case exit_timeout: return "timeout";
    case exit_cancelled: return "cancelled";
    default: return "internal";
    }
}

} // namespace jarvis::host
