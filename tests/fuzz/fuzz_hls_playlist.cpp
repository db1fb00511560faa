// libFuzzer: HLS playlist text (masters and media playlists) as a server or a damaged download gives it.
#include "fuzz_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    jarvis::fuzz::hls_playlist(data, size);
    return 0;
}
