// The smallest library with the plugin ABI: the entry point and its table. The ABI baseline is taken from it, and
// the ABI check compiles it against altered copies of the header to prove that the check catches breaking changes.
#include <jarvis/vision_provider.h>

namespace {
const jv_plugin table{};
}

extern "C" JV_PLUGIN_EXPORT const struct jv_plugin* jarvis_vision_plugin(uint32_t abi_major)
{
    return abi_major == JV_ABI_MAJOR ? &table : nullptr;
}
