// The frame_slicer plugin's one exported symbol.
#include "frame_slicer_provider.hpp"

#include <jarvis/plugin_adapter.hpp>

JARVIS_VISION_PLUGIN(jarvis::FrameSlicerProvider, "frame_slicer", "0.1.0")
