#pragma once

#include "media/av_handles.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

extern "C" {
#include <libavutil/hwcontext.h>
}

namespace jarvis {

// Decoding on the GPU's video engine (frames.hardware_decode): Direct3D 11 on Windows, whatever the GPU; NVDEC (cuda)
// or, by name, VA-API on Linux. A long video's decoding is what the model waits for, and the GPU decodes H.264 and HEVC many
// times faster than a CPU core, without taking the cores the rest of the request needs. Wherever the GPU cannot
// (no device, a codec or profile it lacks), the same frames are decoded in software.

// One opened device, shared by the decoders of every extraction.
struct HardwareDevice
{
    av::BufferRef context;
    AVHWDeviceType type = AV_HWDEVICE_TYPE_NONE;
    std::string name; // as configured: "d3d11va", "cuda:1"
};

// What frames.hardware_decode chose for a request: a device, or why there is none (empty when off).
struct HardwareChoice
{
    std::shared_ptr<const HardwareDevice> device;
    std::string unavailable; // "no GPU decoder could be opened (d3d11va: ...)" when asked for and not there
};

// The devices a process has opened, each kept from its first use on: opening one (a Direct3D device, a CUDA context)
// costs tens to hundreds of milliseconds that a follow-up question should not pay again. A device that fails to open
// is not tried again either.
class HardwareDevices
{
public:
    // `setting`: "off", "auto" (the platform's device: d3d11va on Windows, cuda elsewhere), or
    // one device type FFmpeg knows, optionally with the device FFmpeg is to open ("d3d11va:1": the second adapter;
    // "vaapi:/dev/dri/renderD129").
    HardwareChoice choose(const std::string& setting);

    // Kept for the process's life and never destroyed: a device released while a plugin is unloaded (Windows holds its
    // loader lock then) could wait on the driver.
    static HardwareDevices& process_wide();

private:
    std::shared_ptr<const HardwareDevice> open(const std::string& name, std::string& why_not);

    struct Opened
    {
        std::shared_ptr<const HardwareDevice> device;
        std::string why_not;
    };
    std::mutex mutex_;
    std::map<std::string, Opened> opened_;
};

// Whether this FFmpeg's decoder for `codec` (a codec name, "h264") has a way to use the device type `setting` names
// ("auto": the platform's); nothing is opened. What the GPU itself lacks (a profile, a size) shows only when decoding.
bool decoder_has_device_type(const std::string& setting, const std::string& codec);

// Makes `codec` (allocated, not yet opened) decode on `device` where its decoder can: true if the decoder has a way to
// use the device's type. Profiles the GPU lacks still fall back to software when the stream starts (FFmpeg's hwaccel
// initialisation fails and the software format is taken).
bool decode_on_device(AVCodecContext& codec, const AVCodec& decoder, const HardwareDevice& device);

// `frame` in system memory: the frame itself, or (a GPU surface) its picture downloaded into `download` with its
// properties (times, colour description). Throws MediaError naming `source` if the download fails.
const AVFrame& in_system_memory(const AVFrame& frame, av::Frame& download, const std::string& source);

} // namespace jarvis
