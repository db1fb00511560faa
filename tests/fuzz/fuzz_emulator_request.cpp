// libFuzzer: the emulator's handling of a chat request body (JSON, content parts, data: URLs, base64, the media
// decoded from them) and of data: URLs alone.
#include "emulator_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    jarvis::fuzz::emulator_request(data, size);
    return 0;
}
