#include "video_delivery.hpp"

#include "config/config_error.hpp"
#include "core/base64.hpp"
#include "media/media_error.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

// Inline videos above this size make the request too large to be sensible; another delivery suits them.
constexpr int64_t data_delivery_limit_bytes = 64LL * 1024 * 1024;

std::string percent_encode_path(const std::string& path)
{
    std::string out;
    for (unsigned char c : path) {
        if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string data_url(const MediaInfo& media)
{
    if (media.size_bytes > data_delivery_limit_bytes)
        throw ConfigError(fmt::format("video '{}' is {:.1f} MB, above the {} MB limit of delivery=data; use "
                                      "delivery=file with a shared volume or delivery=http",
                                      media.source, media.size_bytes / 1e6, data_delivery_limit_bytes / (1024 * 1024)));
    std::ifstream in(media.source, std::ios::binary);
    std::string bytes(static_cast<size_t>(media.size_bytes), '\0');
    if (!in.read(bytes.data(), media.size_bytes))
        throw MediaError(fmt::format("cannot use video '{}': reading it failed", media.source));
    std::string url = "data:" + video_mime_type(media.container) + ";base64,";
    append_base64(url, bytes);
    return url;
}

} // namespace

std::string map_into_volume(const std::string& path, const InputDataConfig& volume)
{
    if (!volume.configured())
        return {};
    std::error_code ec;
    const fs::path file = fs::weakly_canonical(fs::absolute(path), ec);
    const fs::path root = fs::weakly_canonical(fs::absolute(volume.host_path), ec);
    if (ec)
        return {};
    // Strictly inside the volume after symlinks are resolved, as vLLM checks on its side.
    const fs::path relative = file.lexically_relative(root);
    if (relative.empty() || relative == "." || *relative.begin() == "..")
        return {};
    std::string container = volume.container_path;
    while (container.size() > 1 && container.back() == '/')
        container.pop_back();
    return "file://" + percent_encode_path(container + "/" + relative.generic_string());
}

std::string video_mime_type(const std::string& container)
{
    if (container.find("mp4") != std::string::npos || container.find("mov") != std::string::npos)
        return "video/mp4";
    if (container.find("webm") != std::string::npos || container.find("matroska") != std::string::npos)
        return "video/webm";
    if (container == "avi")
        return "video/x-msvideo";
    return "video/mp4"; // vLLM sniffs the container and ignores the declared type
}

VideoDelivery choose_delivery(const MediaInfo& media, const Loadout& loadout, const ProviderConfig& config)
{
    const Delivery wanted = loadout.delivery.value_or(Delivery::automatic);
    if (media.is_url) {
        if (wanted != Delivery::automatic)
            throw ConfigError(fmt::format("delivery={} is not available for the URL '{}': URLs are passed to the "
                                          "server as they are (use delivery=auto)",
                                          to_string(wanted), media.source));
        return {"url", media.source};
    }
    switch (wanted) {
    case Delivery::automatic: {
        std::string url = map_into_volume(media.source, config.input_data);
        if (!url.empty())
            return {"file", std::move(url)};
        return {"data", data_url(media)};
    }
    case Delivery::file: {
        if (!config.input_data.configured())
            throw ConfigError("delivery=file needs the shared volume: set input_data.host_path and "
                              "input_data.container_path (or --input-data-host/--input-data-container)");
        std::string url = map_into_volume(media.source, config.input_data);
        if (url.empty())
            throw ConfigError(fmt::format("video '{}' is outside the shared volume '{}'; copy it there or use "
                                          "delivery=data",
                                          media.source, config.input_data.host_path));
        return {"file", std::move(url)};
    }
    case Delivery::data:
        return {"data", data_url(media)};
    case Delivery::http:
    case Delivery::frames:
        break;
    }
    throw ConfigError(fmt::format("delivery={} is not available in this version of native_video (use auto, file "
                                  "or data)",
                                  to_string(wanted)));
}

} // namespace jarvis
