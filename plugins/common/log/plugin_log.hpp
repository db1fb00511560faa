#pragma once

#include <jarvis/plugin_adapter.hpp>

#include <fmt/format.h>

namespace jarvis {

// A plugin's logger: formats with fmt and hands the line to the host's log callback. Plugins own no sinks and
// never write to stdout or stderr; formatting is skipped when the host does not want the level.
class PluginLog
{
public:
    explicit PluginLog(plugin::Host host) : host_(host) {}

    template <class... Args>
    void debug(fmt::format_string<Args...> f, Args&&... args) const
    {
        write(JV_LOG_DEBUG, f, std::forward<Args>(args)...);
    }
    template <class... Args>
    void info(fmt::format_string<Args...> f, Args&&... args) const
    {
        write(JV_LOG_INFO, f, std::forward<Args>(args)...);
    }
    template <class... Args>
    void warn(fmt::format_string<Args...> f, Args&&... args) const
    {
        write(JV_LOG_WARN, f, std::forward<Args>(args)...);
    }

private:
    template <class... Args>
    void write(int32_t level, fmt::format_string<Args...> f, Args&&... args) const
    {
        if (host_.wants(level))
            host_.log(level, fmt::format(f, std::forward<Args>(args)...));
    }

    plugin::Host host_;
};

} // namespace jarvis
