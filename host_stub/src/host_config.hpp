#pragma once

#include "cli_options.hpp"
#include "config/loadout.hpp"
#include "config/provider_config.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace jarvis::host {

// The configuration in force for one command: the config file (if any) with the command line laid over it.
struct HostConfig
{
    nlohmann::json document;   // handed to providers as their config_json
    ProviderConfig parsed;
    Loadout loadout;
    std::filesystem::path plugin_dir;
    std::vector<std::string> warnings; // keys and loadout options accepted but ignored
};

// Reads and validates the configuration. Throws ConfigError naming the file or key (exit 2).
// `executable_dir` locates the default plugin directory, <executable_dir>/../lib/jarvis/plugins.
HostConfig resolve_config(const CliOptions& cli, const std::filesystem::path& executable_dir);

} // namespace jarvis::host
