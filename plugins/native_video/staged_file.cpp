#include "staged_file.hpp"

#include "config/config_error.hpp"
#include "media/media_error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

constexpr const char* staging_dir = ".jarvis-staging";

void remove_leftovers(const fs::path& dir)
{
    std::error_code ec;
    const auto now = fs::file_time_type::clock::now();
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().filename().string().rfind("jarvis-", 0) == 0 &&
            now - fs::last_write_time(entry.path(), ec) > std::chrono::hours(24))
            fs::remove(entry.path(), ec);
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
    const std::string ext = name.extension().string();
    std::string stem;
    for (unsigned char c : name.stem().string())
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
    return std::string(staging_dir) + "/jarvis-" + random_token(64) + "-" + safe_file_name(video.filename());
}

std::optional<std::string> staging_problem(const fs::path& volume_root)
{
    std::error_code ec;
    if (!fs::is_directory(volume_root, ec))
        return fmt::format("input_data.host_path '{}' does not exist or is not a directory", volume_root.string());
    // The staging folder if it is there, else the volume, where it would be made.
    const fs::path dir = volume_root / staging_dir;
    const fs::path& where = fs::is_directory(dir, ec) ? dir : volume_root;
    if (::access(where.c_str(), W_OK) != 0)
        return fmt::format("input_data.host_path '{}' is not writable: {}", volume_root.string(), std::strerror(errno));
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
        throw ConfigError(fmt::format("input_data.host_path '{}' is not writable: {}", volume_root.string(), ec.message()));
    remove_leftovers(dir);

    const std::string name = "jarvis-" + random_token(64) + "-" + safe_file_name(video.filename());
    relative_ = std::string(staging_dir) + "/" + name;
    path_ = dir / name;
    struct stat source_stat = {};
    struct stat dir_stat = {};
    if (::stat(video.c_str(), &source_stat) == 0 && ::stat(dir.c_str(), &dir_stat) == 0 && source_stat.st_dev == dir_stat.st_dev &&
        ::link(video.c_str(), path_.c_str()) == 0) {
        linked_ = true;
        return;
    }
    const fs::path part = dir / (".part-" + name);
    fs::copy_file(video, part, fs::copy_options::overwrite_existing, ec);
    if (!ec)
        fs::rename(part, path_, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(part, ignored);
        throw ConfigError(fmt::format("cannot stage '{}' into input_data.host_path '{}': {}", video.string(), volume_root.string(),
                                      ec.message()));
    }
}

StagedFile::~StagedFile()
{
    std::error_code ec;
    fs::remove(path_, ec);
}

} // namespace jarvis
