// libFuzzer: the HTTP delivery's media server (cpp-httplib underneath) answering whatever a client sends: request
// lines, headers, ranges.
#include "media_server_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    jarvis::fuzz::media_server_request(data, size);
    return 0;
}
