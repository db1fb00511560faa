#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace jarvis {

// Sends one request (a native_video ask) and returns its result document; throws plugin::Error on failure.
using ProbeAsk = std::function<std::string(const std::string& request_json)>;

// Checks the configured endpoint: /v1/models, then a few seconds of generated video through every delivery
// native_video can use with this configuration, fallbacks off. The report says for each delivery what works, how
// fast, how many prompt tokens the video cost (the proof it arrived), or the server's reason and what to change;
// "ok" is true when at least one delivery works. An unreachable endpoint throws (JV_E_UNREACHABLE). The server's
// decoding is measured on `calibration_video`'s first seconds when one is given (a MediaError when it cannot be used,
// before anything is sent), else on a generated test pattern.
nlohmann::json run_probe(const ProviderConfig& config, const Loadout& loadout, const std::string& calibration_video,
                         const ProbeAsk& ask, const plugin::Call& call);

// What to change for a refusal, from the server's message; empty when there is nothing specific to say.
std::string probe_advice(const std::string& delivery, const std::string& message, const ProviderConfig& config);

} // namespace jarvis
