#pragma once

#include <jarvis/vision_provider.h>

#include <string>

namespace jarvis::host {

// jarvis-host's exit codes (docs/contract.md).
enum ExitCode : int {
    exit_ok = 0,
    exit_internal = 1,
    exit_usage = 2,
    exit_media = 3,
    exit_unreachable = 4,
    exit_refused = 5,
    exit_timeout = 6,
    exit_cancelled = 130,
};

ExitCode exit_code_for(jv_status status);

// The "kind" of an error in --json output: usage, media, unreachable, refused, timeout, cancelled, internal.
std::string error_kind(ExitCode code);

} // namespace jarvis::host
