// libFuzzer: a video file of any bytes, through probing, the frame index and frame extraction (fuzz_bodies.hpp).
#include "fuzz_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    jarvis::fuzz::container(data, size);
    return 0;
}
