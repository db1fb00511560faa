#include "plugin_loader.hpp"

#include "config/config_error.hpp"
#include "platform/native_path.hpp"

#include <boost/dll/shared_library.hpp>

#if !defined(_WIN32)
#include <dlfcn.h> // RTLD_NODELETE: Windows keeps a library mapped by not freeing it, which Boost.DLL always does
#endif

#include <algorithm>
#include <memory>

namespace jarvis::host {
namespace {

namespace fs = std::filesystem;
namespace dll = boost::dll;

// Boost wraps dlerror()'s text as "... (dlerror system message: <text>): <errc text>"; the inner text is the one
// a person can act on.
std::string dlerror_text(const std::string& what)
{
    const std::string marker = "dlerror system message: ";
    const size_t start = what.find(marker);
    if (start == std::string::npos)
        return what;
    const size_t from = start + marker.size();
    const size_t end = what.rfind(')');
    return what.substr(from, end != std::string::npos && end > from ? end - from : std::string::npos);
}

} // namespace

LoadOptions default_load_options()
{
    LoadOptions options;
#if defined(JARVIS_KEEP_PLUGINS_MAPPED)
    options.keep_mapped = true;
#endif
    return options;
}

const LoadedPlugin* PluginScan::find(const std::string& name) const
{
    for (const auto& p : plugins)
        if (p.plugin.name() == name)
            return &p;
    return nullptr;
}

vision::Plugin load_plugin(const fs::path& file, [[maybe_unused]] const LoadOptions& options)
{
    auto mode = dll::load_mode::rtld_now | dll::load_mode::rtld_local;
#if !defined(_WIN32)
    if (options.keep_mapped)
        mode = mode | static_cast<dll::load_mode::type>(RTLD_NODELETE);
#endif

    std::shared_ptr<dll::shared_library> library;
    try {
        // The throwing overload: only its message carries dlerror()'s text.
        library = std::make_shared<dll::shared_library>(fs::absolute(file), mode);
    } catch (const std::exception& e) {
        // std::system_error with BOOST_DLL_USE_STD_FS, boost::system::system_error without it.
        throw vision::LoadError("cannot load it: " + dlerror_text(e.what()));
    }
    if (!library->has(JV_ENTRY_POINT_NAME))
        throw vision::LoadError("not a jarvis-vision plugin: it does not export " JV_ENTRY_POINT_NAME);
    auto& entry = library->get<const jv_plugin*(uint32_t)>(JV_ENTRY_POINT_NAME);
    const jv_plugin* table = entry(JV_ABI_MAJOR);
    // The aliasing constructor: the table pointer owns the library, so the library outlives every user of it.
    return vision::Plugin::from_table(table != nullptr ? std::shared_ptr<const jv_plugin>(library, table) : nullptr);
}

PluginScan scan_plugin_dir(const fs::path& dir, const LoadOptions& options)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw ConfigError("plugin directory '" + utf8_path(dir) + "' does not exist or is not a directory");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == dll::shared_library::suffix() && !entry.is_directory())
            files.push_back(entry.path());
    if (ec)
        throw ConfigError("plugin directory '" + utf8_path(dir) + "' cannot be read: " + ec.message());
    std::sort(files.begin(), files.end());

    PluginScan scan;
    for (const auto& file : files) {
        try {
            vision::Plugin plugin = load_plugin(file, options);
            if (const LoadedPlugin* same = scan.find(plugin.name())) {
                scan.errors.push_back({file, "a plugin named '" + plugin.name() + "' was already loaded from " +
                                                 utf8_path(same->path)});
                continue;
            }
            scan.plugins.push_back({std::move(plugin), file});
        } catch (const vision::LoadError& e) {
            scan.errors.push_back({file, e.what()});
        }
    }
    return scan;
}

} // namespace jarvis::host
