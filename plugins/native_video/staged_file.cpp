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

// What killed processes left: staged videos, and copies cut short under their temporary name.
void remove_leftovers(const fs::path& dir)
{
    remove_abandoned_files(dir, staged_prefix);
    remove_abandoned_files(dir, std::string(part_prefix) + std::string(staged_prefix));
}

} // namespace

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

std::optional<std::string> staging_problem(const fs::path& volume_root)
{
    std::error_code ec;
    if (!fs::is_directory(volume_root, ec))
        return fmt::format("input_data.host_path '{}' does not exist or is not a directory", utf8_path(volume_root));
    // The staging folder if it is there, else the volume, where it would be made.
    const fs::path dir = volume_root / staging_dir;
    const fs::path& where = fs::is_directory(dir, ec) ? dir : volume_root;
    if (const auto why = cannot_write_into(where))
        return fmt::format("input_data.host_path '{}' is not writable: {}", utf8_path(volume_root), *why);
    return std::nullopt;
}

StagedFile::StagedFile(const fs::path& video, const fs::path& volume_root)
{
    if (const auto problem = staging_problem(volume_root))
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
    fs::copy_file(video, part, fs::copy_options::overwrite_existing, ec);
    if (!ec)
        fs::rename(part, path_, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(part, ignored);
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
