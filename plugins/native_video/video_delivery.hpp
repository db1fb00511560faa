#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "media/media_source.hpp"

#include <string>

namespace jarvis {

// How the video reaches the server, and the URL the server is given.
struct VideoDelivery
{
    std::string mode; // "url" (an http(s) source passed through), "file" or "data"
    std::string url;
};

// Chooses the delivery for a source and builds its URL.
//  - http(s) sources pass through unchanged;
//  - file: a path inside input_data.host_path becomes file:///<container_path>/<relative path>;
//  - data: the file inline, base64.
// Throws ConfigError when the requested delivery cannot serve this source.
VideoDelivery choose_delivery(const MediaInfo& media, const Loadout& loadout, const ProviderConfig& config);

// file:// URL for `path` inside the shared volume, or empty when the path is outside it.
std::string map_into_volume(const std::string& path, const InputDataConfig& volume);

// MIME type for a container, as FFmpeg names it ("mov,mp4,..." -> "video/mp4").
std::string video_mime_type(const std::string& container);

} // namespace jarvis
