#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "media/decode_memory.hpp"
#include "media/frame_choice.hpp"
#include "media/frame_index.hpp"
#include "media/hardware_decode.hpp"
#include "media/media_source.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace jarvis {

struct EncodedFrame
{
    double time_s = 0; // the true presentation time of the frame in the JPEG
    int64_t pts = 0;
    int width = 0;
    int height = 0;
    std::string jpeg;
    size_t jpeg_bytes = 0; // its size, kept where the JPEG itself was handed on and dropped
};

struct ExtractionRequest
{
    std::string source;     // what messages name
    std::string local_copy; // a URL source's downloaded copy, read instead of the URL when set
    std::string read_url;   // otherwise what is read when not `source` (MediaInfo::read_url: an HLS master's variant)
    int stream_index = 0;                          // the stream MediaSource::open chose
    const AVCodecParameters* codec = nullptr;      // its codec parameters (read-only, shared by the workers)
    int width = 0;       // as displayed
    int height = 0;
    int rotation_deg = 0;
    int jpeg_quality = 3; // FFmpeg's qscale: 2 (best) .. 31
    SeekMode mode = SeekMode::exact;
    unsigned threads = 0; // 0: one per core
    // What the decoders of every extraction running at once may take (decode_memory.hpp): fewer workers and frame
    // threads than the cores when a frame is large or other requests are decoding.
    int64_t decode_memory_bytes = default_decode_memory_bytes;
    bool skip_unused_references = true; // H.264: also skip reference pictures no target depends on
    double io_timeout_s = 30;           // a URL source: how long a read may wait for a stalled server
    std::shared_ptr<UrlRangeCache> url_cache; // a URL source: the bytes its index was made from, read again from here
    // Decodes on this GPU device where the codec can (hardware_decode.hpp), each decoder on one thread; null: software.
    std::shared_ptr<const HardwareDevice> hardware;

    const std::string& read_from() const { return !local_copy.empty() ? local_copy : !read_url.empty() ? read_url : source; }
};

// Runs on the calling thread between units of work: `cancelled` is polled, `progress` gets the fraction done, and
// `frame_ready`, when set, gets each frame of the result in time order as soon as it and every earlier one are
// encoded (so that a request can be sent while later frames are still being decoded).
struct ExtractionObserver
{
    std::function<bool()> cancelled;
    std::function<void(double)> progress;
    std::function<void(const EncodedFrame&)> frame_ready;
    // With frame_ready: false drops each JPEG once frame_ready has had it, for a caller that keeps only what it made
    // of them (a long video's images would otherwise be held twice).
    bool keep_jpegs = true;
};

struct Extraction
{
    std::vector<EncodedFrame> frames; // in time order
    std::vector<std::string> warnings;
    size_t skipped_references = 0;    // reference pictures not decoded because no target depended on them
    size_t pictures_decoded = 0;      // the decoding work done: every picture decoded, targets included
    DecodeParallelism parallelism;    // the decoders and frame threads it ran on, within the memory budget
    size_t pictures_on_gpu = 0;       // of pictures_decoded, those the request's hardware device decoded
};

// Decodes exactly the targeted frames and turns them into JPEGs at the requested size, upright.
//  - Targets are sorted; the decoder keeps going forward while the next target is in the keyframe interval it is
//    in, and seeks otherwise, so no interval is decoded twice.
//  - Packets that are not targets are decoded only if other frames need them (AVDISCARD_NONREF); for H.264 the
//    slice headers of the interval are read first, so that reference pictures no target depends on are skipped too
//    (see h264_references.hpp). Each interval stops at its last target's packet and drains the decoder.
//  - Keyframe intervals are shared out to worker threads as they become free, longest first (in time order when the
//    frames are consumed as they come), each worker with its own demuxer and decoder (local files).
//  - There are as many workers as cores (and frame threads for the cores left over) as the memory budget holds, less
//    what other extractions in the process have reserved (decode_memory.hpp).
//  - SeekMode::keyframe decodes only keyframes.
//  - Keyframes that are recovery points (intra refresh), whose pictures FFmpeg withholds until they are whole, are
//    decoded from the keyframe before.
//  - A truncated or damaged file gives what decodes: a target that cannot be decoded is replaced by the last frame
//    that could, reported at that frame's own time, with a warning.
// Throws MediaError, or MediaCancelled when cancelled.
Extraction extract_frames(const ExtractionRequest& request, const FrameIndex& index, const std::vector<FrameTarget>& targets,
                          const ExtractionObserver& observer);

} // namespace jarvis
