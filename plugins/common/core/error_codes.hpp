#pragma once

#include "config/config_error.hpp"
#include "media/media_error.hpp"

#include <jarvis/plugin_adapter.hpp>

namespace jarvis {

// Runs a provider's work, giving the project's own exceptions their ABI status codes.
template <class Body>
auto with_status_codes(Body&& body) -> decltype(body())
{
    try {
        return body();
    } catch (const ConfigError& e) {
        throw plugin::Error(JV_E_INVALID_ARGUMENT, e.what());
    } catch (const MediaError& e) {
        throw plugin::Error(JV_E_MEDIA, e.what());
    } catch (const MediaCancelled& e) {
        throw plugin::Error(JV_E_CANCELLED, e.what());
    }
}

} // namespace jarvis
