#include "media/hardware_decode.hpp"

#include "media/media_error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

namespace jarvis {
namespace {

// What "auto" tries, in turn. Direct3D 11 is every Windows GPU's (NVIDIA, AMD, Intel). Elsewhere NVDEC alone: the
// GPUs vLLM runs on are NVIDIA's, whose Linux driver has no VA-API; VA-API (Intel, AMD) is there by name.
#ifdef _WIN32
const std::vector<std::string> automatic = {"d3d11va"};
#else
const std::vector<std::string> automatic = {"cuda"};
#endif

// A decoded surface held as the previous frame while the next decodes, and one being downloaded: the pool's size
// otherwise covers the decoder's references alone, and a decoder out of surfaces fails.
constexpr int surfaces_we_hold = 2;

// The devices a setting other than "off" names, in the order they are tried.
std::vector<std::string> devices_named(const std::string& setting)
{
    return setting == "auto" ? automatic : std::vector<std::string>{setting};
}

// Whether `decoder` has a way to decode on a device of `type` that it is handed (hw_device_ctx).
bool takes_device_of_type(const AVCodec& decoder, AVHWDeviceType type)
{
    for (int i = 0;; ++i) {
        const AVCodecHWConfig* config = avcodec_get_hw_config(&decoder, i);
        if (config == nullptr)
            return false;
        if ((config->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) != 0 && config->device_type == type)
            return true;
    }
}

} // namespace

HardwareDevices& HardwareDevices::process_wide()
{
    static auto* devices = new HardwareDevices;
    return *devices;
}

HardwareChoice HardwareDevices::choose(const std::string& setting)
{
    HardwareChoice choice;
    if (setting.empty() || setting == "off")
        return choice;
    std::vector<std::string> reasons;
    for (const std::string& name : devices_named(setting)) {
        std::string why_not;
        if ((choice.device = open(name, why_not)))
            return choice;
        reasons.push_back(fmt::format("{}: {}", name, why_not));
    }
    choice.unavailable = fmt::format("no GPU decoder could be opened ({})", fmt::join(reasons, "; "));
    return choice;
}

std::shared_ptr<const HardwareDevice> HardwareDevices::open(const std::string& name, std::string& why_not)
{
    std::lock_guard lock(mutex_);
    if (const auto known = opened_.find(name); known != opened_.end()) {
        why_not = known->second.why_not;
        return known->second.device;
    }
    Opened& opened = opened_[name];
    const size_t colon = name.find(':');
    const std::string type_name = name.substr(0, colon);
    const std::string device_name = colon == std::string::npos ? std::string() : name.substr(colon + 1);
    const AVHWDeviceType type = av_hwdevice_find_type_by_name(type_name.c_str());
    if (type == AV_HWDEVICE_TYPE_NONE) {
        opened.why_not = fmt::format("this FFmpeg knows no device type '{}'", type_name);
    } else {
        AVBufferRef* context = nullptr;
        const int rc = av_hwdevice_ctx_create(&context, type, device_name.empty() ? nullptr : device_name.c_str(), nullptr, 0);
        if (rc < 0) {
            opened.why_not = av::error_string(rc);
        } else {
            auto device = std::make_shared<HardwareDevice>();
            device->context.reset(context);
            device->type = type;
            device->name = name;
            opened.device = std::move(device);
        }
    }
    why_not = opened.why_not;
    return opened.device;
}

bool decoder_has_device_type(const std::string& setting, const std::string& codec)
{
    const AVCodecDescriptor* descriptor = avcodec_descriptor_get_by_name(codec.c_str());
    const AVCodec* decoder = descriptor != nullptr ? avcodec_find_decoder(descriptor->id) : nullptr;
    if (decoder == nullptr || setting.empty() || setting == "off")
        return false;
    for (const std::string& name : devices_named(setting)) {
        const AVHWDeviceType type = av_hwdevice_find_type_by_name(name.substr(0, name.find(':')).c_str());
        if (type != AV_HWDEVICE_TYPE_NONE && takes_device_of_type(*decoder, type))
            return true;
    }
    return false;
}

bool decode_on_device(AVCodecContext& codec, const AVCodec& decoder, const HardwareDevice& device)
{
    if (!takes_device_of_type(decoder, device.type))
        return false;
    // With a device and no get_format of ours, FFmpeg's default picks the device's surface format when the stream
    // starts, and the software format when the GPU cannot take the stream.
    codec.hw_device_ctx = av_buffer_ref(device.context.get());
    if (codec.hw_device_ctx == nullptr)
        throw std::bad_alloc();
    codec.extra_hw_frames = surfaces_we_hold;
    return true;
}

const AVFrame& in_system_memory(const AVFrame& frame, av::Frame& download, const std::string& source)
{
    if (frame.hw_frames_ctx == nullptr)
        return frame;
    if (!download) {
        download.reset(av_frame_alloc());
        if (!download)
            throw std::bad_alloc();
    }
    av_frame_unref(download.get());
    // Downloaded in the surface's own layout (NV12, P010): the picture stays YUV until the JPEG encoder.
    int rc = av_hwframe_transfer_data(download.get(), &frame, 0);
    if (rc >= 0)
        rc = av_frame_copy_props(download.get(), &frame);
    if (rc < 0)
        throw MediaError(fmt::format("cannot use video '{}': a frame decoded on the GPU could not be copied from it: {} "
                                     "(frames.hardware_decode \"off\" decodes in software)",
                                     source, av::error_string(rc)));
    return *download;
}

} // namespace jarvis
