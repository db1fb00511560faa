#pragma once

#include "cli_options.hpp"
#include "exit_codes.hpp"
#include "host_config.hpp"

#include <atomic>

namespace jarvis::host {

// Set by the SIGINT handler; a running ask polls it and stops.
extern std::atomic<bool> interrupted;

ExitCode run_plugins(const CliOptions& cli, const HostConfig& config);
ExitCode run_plan(const CliOptions& cli, const HostConfig& config);
ExitCode run_ask(const CliOptions& cli, const HostConfig& config);
ExitCode run_vllm_command(const CliOptions& cli, const HostConfig& config);
ExitCode run_vram(const CliOptions& cli, const HostConfig& config);
// Exit 5 when the server refused every delivery.
ExitCode run_probe(const CliOptions& cli, const HostConfig& config);

} // namespace jarvis::host
