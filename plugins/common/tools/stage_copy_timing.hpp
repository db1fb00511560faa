#pragma once

#include "config/provider_config.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>

namespace jarvis {

// What the file delivery pays to copy a video on another drive into the shared volume (delivery_costs.
// stage_copy_mb_per_s, otherwise an assumed 150 MB/s: a hard disk's). probe --video times it on the user's own video,
// copying up to 256 MiB of it into `volume_dir` the way staging does (the copy removed after), from past
// `already_read_bytes`, the part the probe has just read and the system may hold in memory. Where staging would link
// the video rather than copy it, or it is too small to time, the report says so and suggests nothing. Throws
// plugin::Error when cancelled.
nlohmann::json measure_stage_copy(const std::filesystem::path& volume_dir, const std::filesystem::path& video,
                                  int64_t already_read_bytes, const DeliveryCostConfig& configured, const plugin::Call& call);

} // namespace jarvis
