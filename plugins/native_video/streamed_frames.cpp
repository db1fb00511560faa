#include "streamed_frames.hpp"

#include "core/call_relay.hpp"
#include "http/streamed_body.hpp"
#include "media/ffmpeg_log.hpp"

#include <jarvis/forced_unwind.hpp>

#include <chrono>
#include <thread>

namespace jarvis {
namespace {

using Clock = std::chrono::steady_clock;

// The body around the video's URL: what goes before it, and after it (ending with the object's closing brace, where
// the kwargs are added once the frames' times are known).
struct BodyFrame
{
    std::string before;
    std::string after;
};

BodyFrame body_around_url(PreparedVideo& video, const CallSetup& setup, const ChatTurn& turn)
{
    static constexpr std::string_view placeholder = "@@jarvis-frames-url@@";
    video.url = placeholder;
    const std::string text = video_chat_body(video, setup, turn);
    video.url.clear();
    const size_t at = text.find(placeholder);
    return {text.substr(0, at), text.substr(at + placeholder.size())};
}

std::string with_kwargs(std::string after, const nlohmann::json& kwargs)
{
    after.pop_back(); // the body's closing brace
    return after + ",\"media_io_kwargs\":" + nlohmann::json{{"video", kwargs}}.dump() + "}";
}

// Whatever leaves the sending (an answer, a refusal, cancellation, a thread being ended), decoding stops and its
// thread is joined before the body and the video it writes to are gone.
struct JoinDecoder
{
    CallRelay& relay;
    std::thread& decoder;
    ~JoinDecoder()
    {
        relay.stop();
        if (decoder.joinable())
            decoder.join();
    }
};

} // namespace

StreamedAnswer send_while_decoding(PreparedVideo& video, const CallSetup& setup, const ChatTurn& turn, const ProviderConfig& config,
                                   const plugin::Call& call, const PluginLog& log, const std::string& media_key)
{
    const BodyFrame frame = body_around_url(video, setup, turn);
    StreamedBody body;
    CallRelay relay;
    std::thread decoder;
    const JoinDecoder join{relay, decoder};
    decoder = std::thread([&] {
        try {
            const FfmpegLogScope ffmpeg_log(log);
            std::string url = frames_url_prefix();
            body.append(frame.before + url);
            bool first = true;
            const SampledFrames sampled = extract_planned(*video.frames_plan, relay.worker_call(), log, [&](const EncodedFrame& f) {
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
            body.finish();
        } catch (...) {
            if (caught_foreign_exception())
                throw;
            body.fail(std::current_exception());
        }
    });

    const auto start = Clock::now();
    bool told_waiting = false;
    StreamedAnswer out;
    out.answer = send_chat(config.endpoint, body, setup.stream, call, [&] {
        relay.forward(call);
        if (!told_waiting && body.finished_at()) {
            call.progress("waiting for the answer", -1);
            told_waiting = true;
        }
    });
    const auto whole = body.finished_at();
    if (!whole)
        throw plugin::Error(JV_E_REFUSED, "the server answered before the video's frames were all sent");
    out.body_whole_s = std::chrono::duration<double>(*whole - start).count();
    return out;
}

} // namespace jarvis
