#include "config/config_error.hpp"
#include "config/loadout.hpp"

#include <catch2/catch.hpp>

using jarvis::ConfigError;
using jarvis::parse_loadout;

TEST_CASE("a loadout names engine and model and routes by #nativevideo", "[loadout]")
{
    const auto plain = parse_loadout("vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#ctx=32768");
    CHECK(plain.engine == "vllm");
    CHECK(plain.model == "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ");
    CHECK_FALSE(plain.native_video);
    CHECK(plain.plugin_name() == "frame_slicer");
    CHECK(plain.ctx == 32768);

    const auto native = parse_loadout("vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#ctx=32768#fps=2");
    CHECK(native.native_video);
    CHECK(native.plugin_name() == "native_video");
    CHECK(native.fps == 2.0);
}

TEST_CASE("flag and key names are case-insensitive, values keep their case", "[loadout]")
{
    const auto l = parse_loadout("VLLM://Org/Model-X#nativeVideo#FPS=1.5#Seek=KeyFrame#MAX_frames=64#delivery=Data");
    CHECK(l.engine == "vllm");
    CHECK(l.model == "Org/Model-X");
    CHECK(l.native_video);
    CHECK(l.fps == 1.5);
    CHECK(l.max_frames == 64);
    CHECK(l.seek == jarvis::SeekMode::keyframe);
    CHECK(l.delivery == jarvis::Delivery::data);
}

TEST_CASE("every contract key is parsed", "[loadout]")
{
    const auto l = parse_loadout("vllm://m#nativevideo#fps=0.5#max_frames=32#start=1.5#end=20#max_pixels=401408#ctx=16384"
                                 "#max_tokens=256#seek=exact#delivery=frames");
    CHECK(l.start_s == 1.5);
    CHECK(l.end_s == 20.0);
    CHECK(l.max_pixels == 401408);
    CHECK(l.max_tokens == 256);
    CHECK(l.seek == jarvis::SeekMode::exact);
    CHECK(l.delivery == jarvis::Delivery::frames);
}

TEST_CASE("bad loadouts are clear errors naming the problem", "[loadout][errors]")
{
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(parse_loadout("QuantTrio/Qwen"), Contains("expected ENGINE://MODEL"));
    CHECK_THROWS_WITH(parse_loadout("ollama://m"), Contains("unknown engine 'ollama'"));
    CHECK_THROWS_WITH(parse_loadout("vllm://"), Contains("model name is empty"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#fps=fast"), Contains("fps=fast is not a number"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#fps=0"), Contains("out of range"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#max_frames=2.5"), Contains("not a whole number"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#seek=fastest"), Contains("not one of exact|keyframe"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#start=5#end=2"), Contains("must be after start"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#end=0"), Contains("end=0 must be after start=0"));
    CHECK(parse_loadout("vllm://m#end=0.5").end_s == 0.5);
    CHECK_THROWS_WITH(parse_loadout("vllm://m#ctx="), Contains("has no value"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#nativevideo#fallback=maybe"), Contains("not one of on|off"));
    CHECK_FALSE(parse_loadout("vllm://m#nativevideo#Fallback=OFF").fallback);
    CHECK_THROWS_WITH(parse_loadout("vllm://m#stream=maybe"), Contains("not one of true|false"));
    CHECK_THROWS_WITH(parse_loadout("vllm://m#vid_lim=-1"), Contains("out of range"));
    CHECK_THROWS_AS(parse_loadout("vllm://m#fps=fast"), ConfigError);
}

namespace {
bool any_contains(const std::vector<std::string>& warnings, const std::string& text)
{
    for (const auto& w : warnings)
        if (w.find(text) != std::string::npos)
            return true;
    return false;
}
} // namespace

TEST_CASE("unknown, repeated and misplaced options are accepted with a warning", "[loadout][tolerance]")
{
    auto l = parse_loadout("vllm://m#bogus=1#turbo");
    REQUIRE(l.warnings.size() == 2);
    CHECK(any_contains(l.warnings, "unknown key 'bogus' is ignored"));
    CHECK(any_contains(l.warnings, "unknown flag '#turbo' is ignored"));

    l = parse_loadout("vllm://m#fps=1#FPS=2");
    CHECK(l.fps == 2.0); // the last one counts, as in Jarvis's parser
    CHECK(any_contains(l.warnings, "'fps' is given more than once"));

    CHECK(any_contains(parse_loadout("vllm://m##fps=1").warnings, "empty option"));
    CHECK(any_contains(parse_loadout("vllm://m#delivery=file").warnings, "applies only with #nativevideo"));
    CHECK(any_contains(parse_loadout("vllm://m#fallback=off").warnings, "applies only with #nativevideo"));

    // A misspelled #nativevideo says what it probably meant and which plugin answers instead.
    l = parse_loadout("vllm://m#nativvideo");
    CHECK_FALSE(l.native_video);
    CHECK(any_contains(l.warnings, "unknown flag '#nativvideo' is ignored (did you mean #nativevideo?)"));
    CHECK(any_contains(l.warnings, "frame_slicer plugin answers"));
    CHECK(any_contains(parse_loadout("vllm://m#max_frame=8").warnings, "did you mean max_frames?"));
}

TEST_CASE("Jarvis's loadouts parse with their Jarvis meaning and no warning", "[loadout][jarvis]")
{
    // Strings as they stand in Jarvis's system_config/loadouts.yaml and its test plans.
    for (const char* text : {"vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#ctx=32768",
                             "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#stream",
                             "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#stream#ctx=16384",
                             "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#stream#vid_lim=2#ctx=8192",
                             "vllm://Qwen/Qwen2-VL-2B-Instruct#stream"}) {
        INFO(text);
        CHECK(parse_loadout(text).warnings.empty());
    }
    const auto l = parse_loadout("vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativeVideo#stream#vid_lim=2#img_lim=8#ctx=8192");
    CHECK(l.native_video);
    CHECK(l.stream);
    CHECK(l.video_limit == 2);
    CHECK(l.image_limit == 8);
    CHECK(l.ctx == 8192);
    // Jarvis's parser types values and renames ctx to num_ctx; both spellings mean the same here.
    CHECK(parse_loadout("vllm://m#num_ctx=4096#stream=false#nativevideo=true").ctx == 4096);
    CHECK(parse_loadout("vllm://m#stream=false#nativevideo=true").native_video);
    CHECK_FALSE(parse_loadout("vllm://m#stream=false").stream);
}

TEST_CASE("spaces and line ends around a loadout's parts are ignored, with a warning", "[loadout]")
{
    using Catch::Matchers::Contains;
    const auto l = parse_loadout(" vllm:// Org/Model-X #nativevideo # fps = 1.5 #seek=keyframe \n");
    CHECK(l.engine == "vllm");
    CHECK(l.model == "Org/Model-X");
    CHECK(l.native_video);
    CHECK(l.fps == 1.5);
    CHECK(l.seek == jarvis::SeekMode::keyframe);
    REQUIRE(l.warnings.size() == 1);
    CHECK_THAT(l.warnings[0], Contains("spaces around its parts are ignored"));

    CHECK(parse_loadout("vllm://m #nativevideo = false").native_video == false);
    CHECK(parse_loadout("vllm://m\t#stream").stream);
    CHECK(parse_loadout("vllm://m#fps=2").warnings.empty());
    // A space inside the name cannot be a served model's: refused rather than sent for a 404.
    CHECK_THROWS_WITH(parse_loadout("vllm://Qwen3 VL#nativevideo"), Contains("model name 'Qwen3 VL' contains a space"));
}
