#include "frame_slicer_provider.hpp"

#include "core/call_setup.hpp"
#include "core/error_codes.hpp"
#include "media/media_source.hpp"

namespace jarvis {

FrameSlicerProvider::FrameSlicerProvider(plugin::Host host, std::string_view config_json)
    : config_(with_status_codes([&] { return parse_provider_config(std::string(config_json), "configuration"); })),
      log_(host)
{
}

std::string FrameSlicerProvider::plan(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&]() -> std::string {
        const FfmpegLogScope ffmpeg_log(log_);
        const CallSetup setup = prepare_call(config_, request_json);
        const MediaSource source = MediaSource::open(setup.request.video, [&] { return call.cancelled(); },
                                                     config_.endpoint.timeout_s);
        log_.debug("frame_slicer: opened {} ({}x{}, {:.2f} s)", source.info().source, source.info().width,
                   source.info().height, source.info().duration_s);
        throw plugin::Error(JV_E_INTERNAL, "frame_slicer: frame sampling is not available yet (issue #4)");
    });
}

std::string FrameSlicerProvider::ask(std::string_view request_json, plugin::Call& call)
{
    return plan(request_json, call);
}

} // namespace jarvis
