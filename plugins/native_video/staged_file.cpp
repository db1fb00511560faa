#include "staged_file.hpp"

#include "config/config_error.hpp"
#include "media/media_error.hpp"
#include "platform/file_access.hpp"
#include "platform/native_path.hpp"
#include "platform/owned_files.hpp"

#include <fmt/format.h>

#include <random>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

constexpr const char* staging_dir = ".jarvis-staging";

constexpr std::string_view staged_prefix = "jarvis-";
constexpr std::string_view part_prefix = ".part-";

// A staged name of this process: the owner's marks, so that a killed process's file (a copy can be gigabytes) goes with
// the next staging, then the video's own name, which makes the server's messages readable.
std::string staged_name(const fs::path& video)
{
    return utf8_path(owned_file_path({}, staged_prefix, "-" + safe_file_name(video.filename())));
}

// Room left beside a staged copy: the disk is not filled to its last byte.
constexpr uintmax_t copy_headroom_bytes = 256ULL << 20;

// Where videos are staged: the staging folder if it is there, else the volume, where it would be made (on the same
// volume either way).
fs::path staging_folder_or_volume(const fs::path& volume_root)
{
    std::error_code ec;
    const fs::path dir = volume_root / staging_dir;
    return fs::is_directory(dir, ec) ? dir : volume_root;
}

// What killed processes left: staged videos, and copies cut short under their temporary name.
void remove_leftovers(const fs::path& dir)
{
    remove_abandoned_files(dir, staged_prefix);
    remove_abandoned_files(dir, std::string(part_prefix) + std::string(staged_prefix));
}

} // namespace

std::string readable_size(uintmax_t bytes)
{
    const double mb = double(bytes) / 1e6;
    return mb >= 1000 ? fmt::format("{:.1f} GB", mb / 1000) : mb >= 10 ? fmt::format("{:.0f} MB", mb) : fmt::format("{:.1f} MB", mb);
}

std::string random_token(int bits)
{
    std::random_device device;
    std::string hex;
    for (int i = 0; i < bits / 32; ++i)
        hex += fmt::format("{:08x}", device());
    return hex;
}

std::string safe_file_name(const fs::path& name)
{
    const std::string ext = utf8_path(name.extension());
    std::string stem;
    for (unsigned char c : utf8_path(name.stem()))
        stem += std::isalnum(c) || c == '-' || c == '_' ? static_cast<char>(c) : '_';
    std::string safe_ext;
    for (unsigned char c : ext)
        safe_ext += std::isalnum(c) || c == '.' ? static_cast<char>(c) : '_';
    if (safe_ext.size() > 8)
        safe_ext = safe_ext.substr(0, 8);
    stem = stem.substr(0, 48 - safe_ext.size());
    return (stem.empty() ? "video" : stem) + safe_ext;
}

std::string StagedFile::preview_relative_path(const fs::path& video)
{
    return std::string(staging_dir) + "/" + staged_name(video);
}

bool staging_copies(const fs::path& video, const fs::path& volume_root)
{
    return !can_hard_link(video, staging_folder_or_volume(volume_root));
}

std::optional<std::string> staging_problem(const fs::path& volume_root, const fs::path& video, uintmax_t released_bytes)
{
    std::error_code ec;
    if (!fs::is_directory(volume_root, ec))
        return fmt::format("input_data.host_path '{}' does not exist or is not a directory", utf8_path(volume_root));
    const fs::path where = staging_folder_or_volume(volume_root);
    if (const auto why = cannot_write_into(where))
        return fmt::format("input_data.host_path '{}' is not writable: {}", utf8_path(volume_root), *why);
    if (!staging_copies(video, volume_root))
        return std::nullopt;
    // A copy that fills the disk fails at its end, having taken the room speech and the server need meanwhile.
    const auto size = fs::file_size(video, ec);
    if (ec)
        return std::nullopt; // the video's own error comes where it is read
    const fs::space_info space = fs::space(where, ec);
    if (!ec && space.available + released_bytes < size + copy_headroom_bytes)
        return fmt::format("input_data.host_path '{}' has {} free, too little for a copy of '{}' ({}), which is on another "
                           "volume (a hard link, which takes no room, needs the video on the volume's own drive)",
                           utf8_path(volume_root), readable_size(space.available), utf8_path(video), readable_size(size));
    return std::nullopt;
}

StagedFile::StagedFile(const fs::path& video, const fs::path& volume_root, const std::function<bool(double)>& copying)
{
    if (const auto problem = staging_problem(volume_root, video))
        throw ConfigError(*problem);
    std::error_code ec;
    const fs::path dir = volume_root / staging_dir;
    fs::create_directories(dir, ec);
    if (ec)
        throw ConfigError(fmt::format("input_data.host_path '{}' is not writable: {}", utf8_path(volume_root), ec.message()));
    remove_leftovers(dir);

    const std::string name = staged_name(video);
    relative_ = std::string(staging_dir) + "/" + name;
    path_ = dir / native_path(name);
    if (hard_link_if_same_volume(video, path_)) {
        linked_ = true;
        return;
    }
    const fs::path part = dir / native_path(std::string(part_prefix) + name);
    const uintmax_t bytes = fs::file_size(video, ec);
    const double size = ec ? 0.0 : double(bytes);
    ec = copy_file_reporting(video, part, [&](int64_t copied) { return !copying || copying(size > 0 ? double(copied) / size : 1.0); });
    // Dated now, as a POSIX copy is: Windows' copy keeps the original's time, and another process's staging would take
    // a copy of a week-old recording for a day-old leftover (platform/owned_files.hpp).
    if (!ec)
        fs::last_write_time(part, fs::file_time_type::clock::now(), ec);
    if (!ec)
        fs::rename(part, path_, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(part, ignored);
        if (ec == std::errc::operation_canceled)
            throw MediaCancelled();
        throw ConfigError(fmt::format("cannot stage '{}' into input_data.host_path '{}': {}", utf8_path(video), utf8_path(volume_root),
                                      ec.message()));
    }
}

StagedFile::~StagedFile()
{
    std::error_code ec;
    fs::remove(path_, ec);
}

} // namespace jarvis
