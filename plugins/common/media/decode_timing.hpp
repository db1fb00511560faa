#pragma once

#include <cstdint>
#include <string>

namespace jarvis {

struct HardwareDevice;

// Decodes every frame of a local video once, as a server's video loader walks it (one decoder thread, nothing
// converted), and returns the seconds that took: this machine's side of a comparison with the server's decoding.
// Throws MediaError naming the file and the reason.
double seconds_to_decode_every_frame(const std::string& path);

// What decoding a video took, and where its pictures were decoded.
struct DecodeTiming
{
    double seconds = 0;    // until the last decoder finished
    int64_t pictures = 0;  // every decoder's together
    int64_t on_gpu = 0;    // of them, those that came out as GPU surfaces
};

// `decoders` decoders at once, each over the whole video with its own reader and one thread, as the frames delivery
// runs one decoder per keyframe interval; on `device` (null: software) wherever its decoder can use it. Nothing is
// downloaded or converted: that is the decoding alone. Throws MediaError naming the file and the reason.
DecodeTiming time_decoding_every_frame(const std::string& path, const HardwareDevice* device, int decoders);

} // namespace jarvis
