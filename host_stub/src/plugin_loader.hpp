#pragma once

#include <jarvis/vision_provider.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace jarvis::host {

struct LoadedPlugin
{
    vision::Plugin plugin;
    std::filesystem::path path;
};

struct LoadFailure
{
    std::filesystem::path path;
    std::string message;
};

struct PluginScan
{
    std::vector<LoadedPlugin> plugins; // in file-name order
    std::vector<LoadFailure> errors;

    const LoadedPlugin* find(const std::string& name) const;
};

struct LoadOptions
{
    // Keep libraries mapped after their last user is gone (RTLD_NODELETE). Sanitizer builds need it: they report
    // the heap blocks of an unloaded library's globals as leaks.
    bool keep_mapped = false;
};

LoadOptions default_load_options();

// Loads one plugin with RTLD_NOW | RTLD_LOCAL. The library stays loaded while the returned Plugin, or any
// Provider created from it, lives. Throws vision::LoadError naming the reason (with the loader's own dlerror text).
vision::Plugin load_plugin(const std::filesystem::path& file, const LoadOptions& options = default_load_options());

// Loads every *.so in `dir`. A file that cannot be used is reported in `errors` and skipped; the rest still load.
// Throws ConfigError when `dir` is not a readable directory.
PluginScan scan_plugin_dir(const std::filesystem::path& dir, const LoadOptions& options = default_load_options());

} // namespace jarvis::host
