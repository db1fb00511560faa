#pragma once

#include <optional>
#include <string>
#include <vector>

namespace jarvis::host {

// jarvis-host's command line (docs/contract.md). Global options may stand before or after the command.
struct CliOptions
{
    std::string command; // plugins, plan, ask, vllm-command, probe; empty: print usage
    bool help = false;

    // global
    std::optional<std::string> config_file;
    std::optional<std::string> plugin_dir;
    std::optional<std::string> endpoint;
    std::optional<std::string> loadout;
    std::optional<std::string> log_level;
    std::optional<std::string> input_data_host;
    std::optional<std::string> input_data_container;
    std::optional<std::string> http_advertise;

    // per command
    std::optional<std::string> video;
    std::optional<std::string> prompt;
    std::optional<std::string> format;
    std::optional<std::string> continue_file; // ask/plan --continue FILE: a previous `ask --json` output
    bool json = false;
    bool stream = false;
};

// Throws ConfigError (exit 2) on an unknown option, a missing value or a second command.
CliOptions parse_cli(const std::vector<std::string>& args);

const char* usage_text();

} // namespace jarvis::host
