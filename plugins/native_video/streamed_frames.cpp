#include "streamed_frames.hpp"

#include "http/body_slot.hpp"
#include "http/send_while_writing.hpp"
#include "media/ffmpeg_log.hpp"

namespace jarvis {
namespace {

// The body around the video's URL: what goes before it, and after it (ending with the object's closing brace, where
// the kwargs are added once the frames' times are known).
BodyAroundSlot body_around_url(PreparedVideo& video, const CallSetup& setup, const ChatTurn& turn)
{
    BodyAroundSlot around = split_at_slot([&](const std::string& placeholder) {
        video.url = placeholder;
        return video_chat_body(video, setup, turn);
    });
    video.url.clear();
    return around;
}

std::string with_kwargs(std::string after, const nlohmann::json& kwargs)
{
    after.pop_back(); // the body's closing brace
    return after + ",\"media_io_kwargs\":" + nlohmann::json{{"video", kwargs}}.dump() + "}";
}

} // namespace

WrittenAnswer send_while_decoding(PreparedVideo& video, const CallSetup& setup, const ChatTurn& turn, const ProviderConfig& config,
                                   const plugin::Call& call, const PluginLog& log, const std::string& media_key)
{
    const BodyAroundSlot frame = body_around_url(video, setup, turn);
    return send_while_writing(config.endpoint, setup.stream, call, [&](StreamedBody& body, const plugin::Call& decoding) {
        const FfmpegLogScope ffmpeg_log(log);
        std::string url = frames_url_prefix();
        body.append(frame.before + url);
        bool first = true;
        const SampledFrames sampled = extract_planned(*video.frames_plan, decoding, log, [&](const EncodedFrame& f) {
            std::string piece = frame_url_piece(f, first);
            first = false;
            url += piece;
            body.append(std::move(piece));
        });
        std::string ending = frames_url_ending(sampled.extraction.frames);
        url += ending;
        body.append(std::move(ending));
        finish_frames(video, sampled, std::move(url), config, media_key);
        body.append(with_kwargs(frame.after, video.video_kwargs));
    });
}

} // namespace jarvis
