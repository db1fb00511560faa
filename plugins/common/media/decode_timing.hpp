#pragma once

#include <string>

namespace jarvis {

// Decodes every frame of a local video once, as a server's video loader walks it (one decoder thread, nothing
// converted), and returns the seconds that took: this machine's side of a comparison with the server's decoding.
// Throws MediaError naming the file and the reason.
double seconds_to_decode_every_frame(const std::string& path);

} // namespace jarvis
