#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"

#include <string>
#include <vector>

namespace jarvis {

// The vLLM launch that matches a configuration: the same model, context, volume and media settings the plugins use.
struct VllmLaunch
{
    std::string image;
    std::string container_name; // legal for Docker: [a-zA-Z0-9][a-zA-Z0-9_.-]*
    int host_port = 8300;
    std::vector<std::string> mounts;      // --mount values (long form: survives Windows drive colons)
    std::vector<std::string> vllm_args;   // what follows the image
};

// Throws ConfigError for settings a launch cannot carry (paths with characters no shell keeps literal).
VllmLaunch make_vllm_launch(const ProviderConfig& config, const Loadout& loadout);

// Renderings. `docker`: one line that pastes into bash and PowerShell alike (no single quotes, no JSON: vLLM's
// dot notation for its JSON flags, paths in double quotes). `compose`: a docker-compose service. `args`: the vLLM
// arguments as a JSON array, for hosts that start the container themselves.
std::string render_docker(const VllmLaunch& launch);
std::string render_compose(const VllmLaunch& launch);
std::string render_args(const VllmLaunch& launch);

} // namespace jarvis
