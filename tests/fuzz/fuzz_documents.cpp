// libFuzzer: loadout strings, configuration documents and requests, everything a host hands a plugin as text.
// Each must parse or throw ConfigError: no other exception, no crash, no sanitizer report.
#include "fuzz_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    jarvis::fuzz::documents(data, size);
    return 0;
}
