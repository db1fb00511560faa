// The H.264 header reader against FFmpeg's decoder on real x264 streams, and against damaged input.
#include "fixtures.hpp"

#include "media/av_handles.hpp"
#include "media/ffmpeg_compat.hpp"
#include "media/h264_headers.hpp"
#include "media/h264_references.hpp"

#include "fuzz_bodies.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>

using namespace jarvis;
using namespace jarvis::test;

namespace {

struct Packet
{
    int64_t pts = 0;
    std::vector<uint8_t> data;
};

struct Stream
{
    std::vector<uint8_t> extradata;
    std::vector<Packet> packets; // decode order
    std::map<int64_t, AVPictureType> decoded_type; // by pts, from FFmpeg's decoder
    std::map<int64_t, bool> decoded_key;
    int refs = 0; // FFmpeg's max_num_ref_frames
};

Stream read_stream(const std::string& path)
{
    Stream s;
    AVFormatContext* raw = nullptr;
    REQUIRE(avformat_open_input(&raw, path.c_str(), nullptr, nullptr) == 0);
    av::FormatContext format(raw);
    REQUIRE(avformat_find_stream_info(format.get(), nullptr) >= 0);
    const int index = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    REQUIRE(index >= 0);
    const AVCodecParameters* par = format->streams[index]->codecpar;
    s.extradata.assign(par->extradata, par->extradata + par->extradata_size);
    const AVCodec* codec = avcodec_find_decoder(par->codec_id);
    av::CodecContext decoder(avcodec_alloc_context3(codec));
    REQUIRE(avcodec_parameters_to_context(decoder.get(), par) >= 0);
    decoder->thread_count = 1;
    REQUIRE(avcodec_open2(decoder.get(), codec, nullptr) == 0);
    av::Packet packet(av_packet_alloc());
    av::Frame frame(av_frame_alloc());
    auto receive = [&] {
        while (avcodec_receive_frame(decoder.get(), frame.get()) == 0) {
            s.decoded_type[frame->pts] = frame->pict_type;
            s.decoded_key[frame->pts] = av::is_key_frame(*frame);
            av_frame_unref(frame.get());
        }
    };
    while (av_read_frame(format.get(), packet.get()) >= 0) {
        if (packet->stream_index == index) {
            s.packets.push_back({packet->pts, std::vector<uint8_t>(packet->data, packet->data + packet->size)});
            REQUIRE(avcodec_send_packet(decoder.get(), packet.get()) == 0);
            receive();
        }
        av_packet_unref(packet.get());
    }
    avcodec_send_packet(decoder.get(), nullptr);
    receive();
    s.refs = decoder->refs;
    return s;
}

std::string x264_video(const std::string& name, const std::string& params, const std::string& seconds = "6")
{
    return make_video(name, {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", seconds, "-c:v", "libx264", "-preset",
                             "veryfast", "-x264-params", params, "-pix_fmt", "yuv420p"})
        .string();
}

} // namespace

TEST_CASE("slice headers read as FFmpeg's decoder reads them", "[media][h264]")
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"headers_obs.mp4", "keyint=60:bframes=2:b-pyramid=normal:ref=1"},
        {"headers_refs.mp4", "keyint=60:bframes=3:b-pyramid=normal:ref=4:weightp=2:slices=3"},
        {"headers_nob.ts", "keyint=60:bframes=0:ref=3"},
        {"headers_wrap.mp4", "keyint=400:min-keyint=400:scenecut=0:bframes=3:b-pyramid=normal:ref=2"}, // frame_num wraps
    };
    for (const auto& [name, params] : cases) {
        DYNAMIC_SECTION(name)
        {
            const Stream stream = read_stream(x264_video(name, params, name == "headers_wrap.mp4" ? "14" : "6"));
            h264::ParameterSets sets;
            const std::optional<int> length_size = h264::read_extradata(stream.extradata.data(), stream.extradata.size(), sets);
            REQUIRE(length_size);
            CHECK(*length_size == (name.ends_with(".ts") ? 0 : 4));
            uint32_t previous_reference_frame_num = 0;
            bool wrapped = false;
            for (const auto& packet : stream.packets) {
                std::vector<h264::SliceHeader> slices;
                REQUIRE(h264::for_each_nal(packet.data.data(), packet.data.size(), *length_size, [&](const uint8_t* nal, size_t n) {
                    const h264::NalResult read = h264::read_nal(nal, n, sets);
                    CHECK(read.readable);
                    if (read.is_slice)
                        slices.push_back(read.slice);
                }));
                REQUIRE_FALSE(slices.empty());
                const h264::SliceHeader& first = slices.front();
                const h264::Sps& sps = *sets.sps_of(sets.pps.at(first.pps_id));
                CHECK(sps.max_num_ref_frames == uint32_t(stream.refs));
                INFO("packet at pts " << packet.pts);
                const AVPictureType type = stream.decoded_type.at(packet.pts);
                CHECK(type == (first.type == h264::SliceType::i ? AV_PICTURE_TYPE_I
                               : first.type == h264::SliceType::p ? AV_PICTURE_TYPE_P : AV_PICTURE_TYPE_B));
                CHECK(first.idr == stream.decoded_key.at(packet.pts));
                // frame_num counts reference pictures (§7.4.3): a wrong field width or position breaks the count.
                const uint32_t max_frame_num = 1u << sps.log2_max_frame_num;
                if (first.idr) {
                    CHECK(first.frame_num == 0);
                } else {
                    CHECK(first.frame_num == (previous_reference_frame_num + 1) % max_frame_num);
                    wrapped = wrapped || first.frame_num < previous_reference_frame_num;
                }
                if (first.nal_ref_idc != 0)
                    previous_reference_frame_num = first.frame_num;
                for (const auto& s : slices) {
                    CHECK(s.frame_num == first.frame_num);
                    CHECK(s.type == first.type);
                    CHECK(s.num_ref_idx_active[0] <= 32);
                }
            }
            if (name == "headers_wrap.mp4")
                CHECK(wrapped);
        }
    }
}

TEST_CASE("damaged H.264 packets never crash the reference analysis", "[media][h264]")
{
    const Stream stream = read_stream(x264_video("headers_obs.mp4", "keyint=60:bframes=2:b-pyramid=normal:ref=1"));
    std::mt19937 random(1234);
    for (int trial = 0; trial < 300; ++trial) {
        h264::ReferenceAnalysis analysis(stream.extradata.data(), stream.extradata.size());
        REQUIRE(analysis.usable());
        size_t pictures = 0;
        for (size_t i = 0; i < 60; ++i) {
            std::vector<uint8_t> data = stream.packets[i].data;
            switch (random() % 4) {
            case 0: // truncated
                data.resize(random() % (data.size() + 1));
                break;
            case 1: // bytes flipped in the headers
                for (int k = 0; k < 3; ++k)
                    data[random() % std::min<size_t>(data.size(), 64)] ^= static_cast<uint8_t>(1u << (random() % 8));
                break;
            case 2: // noise
                for (auto& b : data)
                    b = static_cast<uint8_t>(random());
                break;
            default:
                break;
            }
            analysis.add_picture(data.data(), data.size(), i % 7 == 3);
            ++pictures;
        }
        const std::optional<h264::DecodePlan> plan = analysis.pictures_to_decode();
        if (plan)
            CHECK(plan->decode.size() == pictures);
    }
    // Extradata that is not H.264's.
    const uint8_t junk[] = {1, 2};
    CHECK_FALSE(h264::ReferenceAnalysis(junk, sizeof junk).usable());
}

TEST_CASE("inputs the fuzzer once crashed the header reader with are read harmlessly", "[media][h264][fuzz]")
{
    // Meaningful under the sanitizers (the asan preset), where each of these failed.
    CHECK(jarvis::test::replay_fuzz_regressions("fuzz_h264_headers", jarvis::fuzz::h264_headers) > 0);
}

TEST_CASE("video files the fuzzer once crashed probing, indexing or extraction with fail cleanly", "[media][fuzz]")
{
    // Meaningful under the sanitizers: the first had a pts of AV_NOPTS_VALUE reach an int64 subtraction.
    CHECK(jarvis::test::replay_fuzz_regressions("fuzz_container", jarvis::fuzz::container) > 0);
}
