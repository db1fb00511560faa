#pragma once

#include "cli_options.hpp"
#include "exit_codes.hpp"
#include "host_config.hpp"

namespace jarvis::host {

// jarvis-host probe: checks the configured endpoint (/v1/models, then a few seconds of generated video through every
// delivery native_video can use with this configuration, fallbacks off) and says for each what works, how fast, how
// many prompt tokens the video cost (the proof it arrived), or the server's reason and what to change.
ExitCode run_probe(const CliOptions& cli, const HostConfig& config);

// What to change for a refusal, from the server's message; empty when there is nothing specific to say.
std::string probe_advice(const std::string& delivery, const std::string& message, const ProviderConfig& config);

} // namespace jarvis::host
