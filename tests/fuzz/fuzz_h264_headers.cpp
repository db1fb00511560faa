// libFuzzer: the H.264 parameter set and slice header reader on arbitrary NAL units, as damaged files give it.
#include "fuzz_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    jarvis::fuzz::h264_headers(data, size);
    return 0;
}
