// The native_video plugin's one exported symbol.
#include "native_video_provider.hpp"

#include <jarvis/plugin_adapter.hpp>

JARVIS_VISION_PLUGIN(jarvis::NativeVideoProvider, "native_video", "0.1.0")
