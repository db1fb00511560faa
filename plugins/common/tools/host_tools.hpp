#pragma once

#include "config/provider_config.hpp"
#include "tools/probe.hpp"

#include <jarvis/plugin_adapter.hpp>

#include <string>
#include <string_view>

namespace jarvis {

// The host commands a plugin runs for its host through the ABI's `tool` entry (1.1), so that jarvis-host and the
// Python package share one implementation and link none of the plugins' code. The request is
// {"tool": "vllm_command" | "vram" | "probe", "loadout"?: STR, "format"?: "docker" | "compose" | "args"}; the
// result is the tool's JSON document (docs: jarvis-host's vllm-command, vram and probe). `ask` is the plugin's own
// ask, for the probe; empty when the plugin cannot probe (only native_video sends video). Throws ConfigError for
// an unknown tool or bad options.
std::string run_host_tool(std::string_view request_json, const ProviderConfig& config, const ProbeAsk& ask, const plugin::Call& call);

} // namespace jarvis
