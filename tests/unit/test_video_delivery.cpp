#include "config/config_error.hpp"
#include "fixtures.hpp"
#include "media/frame_choice.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/matroska_segment.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"
#include "platform/owned_files.hpp"
#include "staged_copies.hpp"
#include "tools/client_decoding.hpp"
#include "staged_file.hpp"
#include "video_delivery.hpp"
#include "volume_paths.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using jarvis::map_host_path;

namespace {

// tmpfs: another filesystem than the temporary directory's, so staging between them copies.
const fs::path other_filesystem = "/dev/shm";

} // namespace

TEST_CASE("host paths inside the volume map to percent-encoded file:/// URLs under the container path", "[delivery][paths]")
{
    CHECK(map_host_path("/srv/input_data/clips/my trip/día 1#.mp4", "/srv/input_data", "/data/") ==
          "file:///data/clips/my%20trip/d%c3%ada%201%23.mp4");
    CHECK(map_host_path("/srv/input_data/a.mp4", "/srv/input_data/", "/data") == "file:///data/a.mp4");
}

TEST_CASE("Windows host paths map with drive letters, separators and case compared as Windows does", "[delivery][paths]")
{
    const std::string root = "C:\\Users\\Ana\\Jarvis\\input_data";
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data\\Clip One.mp4", root, "/data") == "file:///data/Clip%20One.mp4");
    CHECK(map_host_path("c:/users/ana/jarvis/INPUT_DATA/sub/x.MP4", root, "/data") == "file:///data/sub/x.MP4");
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data\\..\\secret.mp4", root, "/data") == std::nullopt);
    CHECK(map_host_path("D:\\Users\\Ana\\Jarvis\\input_data\\x.mp4", root, "/data") == std::nullopt);
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data2\\x.mp4", root, "/data") == std::nullopt);
    CHECK(map_host_path("C:relative\\x.mp4", root, "/data") == std::nullopt);
    // UNC shares
    CHECK(map_host_path("\\\\nas\\media\\input\\x.mp4", "\\\\NAS\\Media\\input", "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("\\\\nas\\other\\input\\x.mp4", "\\\\nas\\media\\input", "/data") == std::nullopt);
    // A POSIX path never matches a Windows root, and the reverse.
    CHECK(map_host_path("/c/Users/Ana/Jarvis/input_data/x.mp4", root, "/data") == std::nullopt);
}

TEST_CASE("Windows long-path forms name the same places as the plain ones", "[delivery][paths]")
{
    const std::string root = "C:\\Users\\Ana\\Jarvis\\input_data";
    CHECK(map_host_path("\\\\?\\C:\\Users\\Ana\\Jarvis\\input_data\\x.mp4", root, "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data\\x.mp4", "\\\\?\\" + root, "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("\\\\?\\UNC\\nas\\media\\input\\x.mp4", "\\\\nas\\media\\input", "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("\\\\?\\D:\\input_data\\x.mp4", root, "/data") == std::nullopt);
}

TEST_CASE("nothing outside the volume maps: not the root itself, not through .., not a sibling", "[delivery][paths]")
{
    CHECK(map_host_path("/srv/input_data", "/srv/input_data", "/data") == std::nullopt);
    CHECK(map_host_path("/srv/input_data/../etc/passwd", "/srv/input_data", "/data") == std::nullopt);
    CHECK(map_host_path("/srv/input_data2/x.mp4", "/srv/input_data", "/data") == std::nullopt);
    CHECK(map_host_path("relative/x.mp4", "/srv/input_data", "/data") == std::nullopt);
}

TEST_CASE("delivery=auto: file for a local server with a volume, http with an advertised host, else frames", "[delivery]")
{
    const jarvis::MediaSource source = jarvis::MediaSource::open(jarvis::test::sample_video().string());
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    jarvis::ProviderConfig config;
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::frames);
    config.http_delivery.advertise = "host.docker.internal";
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::http);
    jarvis::test::TempDir volume;
    config.input_data = {volume.path().string(), "/data"};
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::file);
    // A volume the video cannot be staged into is passed over, and the reason says so.
    config.input_data = {(volume.path() / "missing").string(), "/data"};
    const auto passed_over = jarvis::decide_delivery(source.info(), loadout, config);
    CHECK(passed_over.mode == jarvis::DeliveryMode::http);
    CHECK_THAT(passed_over.why, Contains("cannot be staged") && Contains("does not exist"));
    config.input_data = {volume.path().string(), "/data"};
    config.endpoint.base_url = "http://gpu-box:8000/v1"; // a remote server cannot see this machine's volume
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::http);
    CHECK(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#start=1"), config).mode ==
          jarvis::DeliveryMode::frames);
}

TEST_CASE("explicit deliveries that cannot work say why", "[delivery][errors]")
{
    const jarvis::MediaSource source = jarvis::MediaSource::open(jarvis::test::sample_video().string());
    const jarvis::ProviderConfig none;
    CHECK_THROWS_WITH(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#delivery=file"), none),
                      Contains("needs the shared volume"));
    jarvis::ProviderConfig open_bind;
    open_bind.http_delivery.bind = "0.0.0.0";
    CHECK_THROWS_WITH(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#delivery=http"), open_bind),
                      Contains("http_delivery.advertise"));
    CHECK_THROWS_WITH(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#delivery=data#start=1"), none),
                      Contains("vLLM has no clipping"));
}

TEST_CASE("staging links on the same filesystem, copies across filesystems, and always cleans up", "[delivery][staging]")
{
    const fs::path video = jarvis::test::sample_video();
    const std::string bytes = jarvis::test::read_file(video);
    jarvis::test::TempDir same_fs; // beside the video, in the temporary directory
    jarvis::test::TempDir other_fs(other_filesystem);

    for (const auto& [volume, expect_link] : {std::pair{same_fs.path(), true}, std::pair{other_fs.path(), false}}) {
        INFO(volume);
        fs::path staged_path;
        {
            jarvis::StagedFile staged(video, volume);
            staged_path = staged.path();
            CHECK(staged.linked() == expect_link);
            CHECK(jarvis::test::read_file(staged.path()) == bytes);
            CHECK(staged.relative_path().rfind(".jarvis-staging/jarvis-", 0) == 0);
            CHECK_THAT(staged.relative_path(), Contains("-sample_h264.mp4"));
            for (const auto& entry : fs::directory_iterator(volume / ".jarvis-staging"))
                CHECK(entry.path().filename().string().rfind(".part-", 0) != 0); // no half-written file left
        }
        CHECK_FALSE(fs::exists(staged_path));
    }
    CHECK(jarvis::safe_file_name("Mi vídeo (1).MOV") == "Mi_v__deo__1_.MOV");
}

namespace {

// A file of `bytes` that takes no room (sparse): what a long recording's size is to staging's decisions.
fs::path sparse_file(const fs::path& path, uintmax_t bytes)
{
    std::ofstream(path).close();
    fs::resize_file(path, bytes);
    return path;
}

} // namespace

TEST_CASE("a copy into the volume reports its progress and stops when cancelled, leaving nothing", "[delivery][staging][cancel]")
{
    jarvis::test::TempDir videos;
    jarvis::test::TempDir volume(other_filesystem);
    // 10 MB of varied bytes: three parts of the copy.
    std::string bytes(10'000'000, '\0');
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<char>(i * 2654435761U >> 24);
    const fs::path video = videos.path() / "recording.mp4";
    std::ofstream(video, std::ios::binary) << bytes;
    REQUIRE(jarvis::staging_copies(video, volume.path()));

    std::vector<double> fractions;
    {
        jarvis::StagedFile staged(video, volume.path(), [&](double f) {
            fractions.push_back(f);
            return true;
        });
        CHECK_FALSE(staged.linked());
        CHECK(jarvis::test::read_file(staged.path()) == bytes);
    }
    REQUIRE(fractions.size() >= 3);
    CHECK(std::is_sorted(fractions.begin(), fractions.end()));
    CHECK(fractions.front() < 0.5);
    CHECK(fractions.back() == 1.0);

    int asked = 0;
    CHECK_THROWS_AS(jarvis::StagedFile(video, volume.path(), [&](double) { return ++asked < 2; }), jarvis::MediaCancelled);
    CHECK(asked == 2);
    CHECK(fs::is_empty(volume.path() / ".jarvis-staging")); // neither the copy nor its part
}

TEST_CASE("a copy into the volume is kept for the next question about the same video, and only for that", "[delivery][staging]")
{
    jarvis::test::TempDir videos;
    jarvis::test::TempDir volume(other_filesystem);
    const fs::path video = videos.path() / "recording.mp4";
    const fs::path other_video = videos.path() / "another.mp4";
    fs::copy_file(jarvis::test::sample_video(), video);
    fs::copy_file(jarvis::test::sample_video(), other_video);
    const auto copies_in_volume = [&] {
        return std::distance(fs::directory_iterator(volume.path() / ".jarvis-staging"), fs::directory_iterator{});
    };

    fs::path kept_path;
    {
        jarvis::StagedCopies copies;
        int reports = 0;
        const auto counting = [&](double) { return ++reports > 0; };
        const fs::path first = copies.stage(video, volume.path(), counting).file->path();
        CHECK(reports > 0);
        CHECK(copies_in_volume() == 1); // kept after its question

        // The follow-up: the same copy, nothing copied; a plan names it.
        reports = 0;
        {
            const auto again = copies.stage(video, volume.path(), counting);
            CHECK(again.reused);
            CHECK(again.file->path() == first);
            CHECK(reports == 0);
        }
        REQUIRE(copies.kept_copy_of(video, volume.path()));
        CHECK(copies.kept_copy_of(video, volume.path())->path() == first);
        CHECK_FALSE(copies.kept_copy_of(other_video, volume.path()));

        // The video edited since: copied afresh, the stale copy gone.
        fs::last_write_time(video, fs::last_write_time(video) + std::chrono::seconds(5));
        const auto edited = copies.stage(video, volume.path());
        CHECK_FALSE(edited.reused);
        CHECK_FALSE(fs::exists(first));

        // Its copy removed by someone: made again.
        fs::remove(edited.file->path());
        CHECK_FALSE(copies.kept_copy_of(video, volume.path()));
        const auto remade = copies.stage(video, volume.path());
        CHECK_FALSE(remade.reused);
        CHECK(jarvis::test::read_file(remade.file->path()) == jarvis::test::read_file(video));

        // Another video replaces it, but a request still using the old copy keeps it until it ends.
        {
            const auto in_use = remade.file;
            const auto other = copies.stage(other_video, volume.path());
            CHECK_FALSE(other.reused);
            CHECK(fs::exists(in_use->path()));
            CHECK(copies_in_volume() == 2);
        }
        CHECK(copies_in_volume() == 2); // `remade` still holds it
        kept_path = copies.kept_copy_of(other_video, volume.path())->path();
    }
    CHECK_FALSE(fs::exists(kept_path)); // gone with the keeper
    CHECK(copies_in_volume() == 0);
}

TEST_CASE("a hard link into the volume is not kept: it costs nothing to make again", "[delivery][staging]")
{
    jarvis::test::TempDir volume;
    const fs::path video = volume.path() / "beside.mp4";
    fs::copy_file(jarvis::test::sample_video(), video);
    jarvis::test::TempDir other_volume; // the same filesystem
    jarvis::StagedCopies copies;
    fs::path linked;
    {
        const auto staged = copies.stage(video, other_volume.path());
        REQUIRE(staged.file->linked());
        linked = staged.file->path();
    }
    CHECK_FALSE(fs::exists(linked));
    CHECK_FALSE(copies.kept_copy_of(video, other_volume.path()));
    CHECK_FALSE(copies.stage(video, other_volume.path()).reused);
}

TEST_CASE("every native_video provider of a process shares one keeper, made afresh once all are gone", "[delivery][staging]")
{
    auto a = jarvis::shared_staged_copies();
    auto b = jarvis::shared_staged_copies();
    CHECK(a == b);
    const std::weak_ptr<jarvis::StagedCopies> was = a;
    a.reset();
    b.reset();
    CHECK(was.expired());
}

TEST_CASE("staging removes what killed processes left: staged videos and copies cut short", "[delivery][staging]")
{
    jarvis::test::TempDir volume;
    const fs::path dir = volume.path() / ".jarvis-staging";
    fs::create_directories(dir);
    const pid_t gone = ::fork();
    if (gone == 0)
        ::_exit(0);
    REQUIRE(gone > 0);
    REQUIRE(::waitpid(gone, nullptr, 0) == gone);
    // Names as this machine's processes make them, with the writer's id swapped in.
    const auto name_of = [&](int64_t pid, const std::string& prefix) {
        std::string name = jarvis::owned_file_path({}, "jarvis-", "-clip.mp4").filename().string();
        name.replace(7, name.find("-m") - 7, "p" + std::to_string(pid));
        return prefix + name;
    };
    const auto written = [&](const std::string& name, fs::file_time_type::duration ago) {
        std::ofstream(dir / name) << "a copy";
        fs::last_write_time(dir / name, fs::file_time_type::clock::now() - ago);
        return dir / name;
    };
    using std::chrono::hours;
    using std::chrono::minutes;
    const std::vector<fs::path> left = {written(name_of(gone, ""), minutes(2)), written(name_of(gone, ".part-"), minutes(2)),
                                        // names from before writers were marked, a day old
                                        written("jarvis-0123456789abcdef-clip.mp4", hours(25)),
                                        written(".part-jarvis-0123456789abcdef-clip.mp4", hours(25))};
    const std::vector<fs::path> in_use = {written(name_of(::getpid(), ""), minutes(2)), written(name_of(::getppid(), ".part-"), minutes(2)),
                                          written("jarvis-0123456789abcdef-clip2.mp4", minutes(2))};
    {
        jarvis::StagedFile staged(jarvis::test::sample_video(), volume.path());
        for (const auto& path : left) {
            INFO(path);
            CHECK_FALSE(fs::exists(path));
        }
        for (const auto& path : in_use) {
            INFO(path);
            CHECK(fs::exists(path));
        }
    }
}

TEST_CASE("a link to a week-old video, staged by this process, is not taken for a leftover by its next staging",
          "[delivery][staging]")
{
    jarvis::test::TempDir volume;
    const fs::path old_video = volume.path() / "last week.mp4";
    fs::copy_file(jarvis::test::sample_video(), old_video);
    fs::last_write_time(old_video, fs::file_time_type::clock::now() - std::chrono::hours(24 * 7));
    jarvis::StagedFile first(old_video, volume.path());
    REQUIRE(first.linked()); // a link has its video's time: a week unwritten
    jarvis::StagedFile second(jarvis::test::sample_video(), volume.path()); // a question asked meanwhile
    CHECK(fs::exists(first.path()));
}

namespace {

// A video described as the container would describe it, without the file: the cost model reads nothing else.
jarvis::MediaInfo described_video(const std::string& path, double seconds, int width, int height, int64_t keyframe_interval)
{
    jarvis::MediaInfo m;
    m.source = path;
    m.container = "mov,mp4,m4a,3gp,3g2,mj2";
    m.codec = "h264";
    m.coded_width = m.width = width;
    m.coded_height = m.height = height;
    m.duration_s = seconds;
    m.avg_fps = 30;
    m.frame_count = static_cast<int64_t>(seconds * 30);
    m.indexed_keyframes = m.frame_count / keyframe_interval;
    m.size_bytes = static_cast<int64_t>(seconds * 670'000); // about 5.4 Mbit/s
    return m;
}

} // namespace

TEST_CASE("auto weighs server-side decoding against frames: long videos go as frames, short ones by pointer", "[delivery][cost]")
{
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    const std::string inside = (volume.path() / "clip.mp4").string();

    // 10 minutes of 1080p30: vLLM's loader decodes all 18,000 frames to take 768 of them.
    const auto long_video = described_video(inside, 600, 1920, 1080, 250);
    const auto long_choice = jarvis::decide_delivery(long_video, loadout, config);
    CHECK(long_choice.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(long_choice.why, Contains("18000 frames"));
    const double file_s = long_choice.estimates_s.at("file").get<double>();
    const double frames_s = long_choice.estimates_s.at("frames").get<double>();
    CHECK(file_s > 60);           // 18,000 x 2.07 MP x 2.2 ms: the measured 73-86 s
    CHECK(frames_s * 3 < file_s); // the measured 27 s for 768 frames
    // The same video asked for sparsely: 60 frames, each half a keyframe interval from the one before.
    const auto sparse = jarvis::decide_delivery(long_video, jarvis::parse_loadout("vllm://m#nativevideo#fps=0.1"), config);
    CHECK(sparse.mode == jarvis::DeliveryMode::frames);
    CHECK(sparse.estimates_s.at("frames").get<double>() * 5 < sparse.estimates_s.at("file").get<double>());

    // 10 seconds: little for the server to decode, nothing to gain from uploading frames.
    const auto short_video = described_video(inside, 10, 1280, 720, 250);
    const auto short_choice = jarvis::decide_delivery(short_video, loadout, config);
    CHECK(short_choice.mode == jarvis::DeliveryMode::file);
    CHECK(short_choice.estimates_s.at("file").get<double>() < 1.5);

    // The same long video where the advertised host is the pointer: the upload counts too, the choice stays frames.
    jarvis::ProviderConfig http_only;
    http_only.http_delivery.advertise = "host.docker.internal";
    const auto over_http = jarvis::decide_delivery(long_video, loadout, http_only);
    CHECK(over_http.mode == jarvis::DeliveryMode::frames);
    CHECK(over_http.estimates_s.contains("http"));

    // A faster server (rates the user measured) keeps the long video on the pointer path; delivery= still forces.
    jarvis::DeliveryRates fast_server;
    fast_server.server_decode_ms_per_megapixel = 0.05;
    CHECK(jarvis::decide_delivery(long_video, loadout, config, fast_server).mode == jarvis::DeliveryMode::file);
    const auto forced = jarvis::decide_delivery(long_video, jarvis::parse_loadout("vllm://m#nativevideo#delivery=file"), config);
    CHECK(forced.mode == jarvis::DeliveryMode::file);
    CHECK(forced.estimates_s.is_null());
}

TEST_CASE("auto counts our decoding at the rate probe measured on the GPU: a clip the CPU leaves to file goes as frames", "[delivery][cost]")
{
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    // 15 seconds of 720p30: frames would save the CPU too little (under 0.5 s) to load this machine with them.
    const auto clip = described_video((volume.path() / "clip.mp4").string(), 15, 1280, 720, 250);
    const auto on_cpu = jarvis::decide_delivery(clip, loadout, config);
    INFO(on_cpu.why);
    CHECK(on_cpu.mode == jarvis::DeliveryMode::file);

    jarvis::DeliveryRates gpu; // what probe's client_decoding suggests for a GPU 10x as fast as a core
    gpu.client_decode_ms_per_megapixel = jarvis::default_client_decode_ms_per_megapixel / 10;
    const auto on_gpu = jarvis::decide_delivery(clip, loadout, config, gpu);
    INFO(on_gpu.why);
    CHECK(on_gpu.mode == jarvis::DeliveryMode::frames);
    // The reason says which rate decided it; the CPU's default goes unsaid.
    CHECK_THAT(on_gpu.why, Contains("we decode about") && Contains("at 0.14 ms per megapixel (delivery_costs.client_decode_ms_per_megapixel)"));
    CHECK_THAT(on_cpu.why, !Contains("delivery_costs.client_decode_ms_per_megapixel"));
    // Only our decoding got cheaper: the server's estimate is the same.
    CHECK(on_gpu.estimates_s.at("file").get<double>() == on_cpu.estimates_s.at("file").get<double>());
    CHECK(on_gpu.estimates_s.at("frames").get<double>() < on_cpu.estimates_s.at("frames").get<double>());
}

TEST_CASE("auto counts the copy of a video on another volume into the shared one", "[delivery][cost][staging]")
{
    jarvis::test::TempDir volume;
    jarvis::test::TempDir beside; // the volume's filesystem: a hard link
    jarvis::test::TempDir other(other_filesystem); // another filesystem: a copy
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    // 10 seconds of a phone's 1080p at 120 Mbit/s: 150 MB.
    const auto clip_in = [](const fs::path& dir) {
        auto media = described_video(sparse_file(dir / "clip.mp4", 150'000'000).string(), 10, 1920, 1080, 250);
        media.size_bytes = 150'000'000;
        return media;
    };
    const auto linked = jarvis::decide_delivery(clip_in(beside.path()), loadout, config);
    const auto copied = jarvis::decide_delivery(clip_in(other.path()), loadout, config);
    INFO(linked.why << "\n" << copied.why);
    CHECK(linked.mode == jarvis::DeliveryMode::file);
    CHECK_THAT(linked.why, !Contains("copied"));
    CHECK_THAT(copied.why, Contains("the video is on another volume: it would be copied into it, 150 MB"));
    // 150 MB at the assumed 150 MB/s.
    CHECK(copied.estimates_s.at("file").get<double>() == Approx(linked.estimates_s.at("file").get<double>() + 1.0));
    CHECK(copied.mode == jarvis::DeliveryMode::frames);
    // A machine whose drives copy fast (delivery_costs.stage_copy_mb_per_s) keeps the file delivery.
    jarvis::DeliveryRates fast_drives;
    fast_drives.stage_copy_mb_per_s = 3000;
    const auto fast = jarvis::decide_delivery(clip_in(other.path()), loadout, config, fast_drives);
    CHECK(fast.mode == jarvis::DeliveryMode::file);
    CHECK(fast.estimates_s.at("file").get<double>() == Approx(linked.estimates_s.at("file").get<double>() + 0.05));
}

TEST_CASE("auto counts no copy for a follow-up whose video was copied for an earlier question", "[delivery][cost][staging]")
{
    jarvis::test::TempDir videos;
    jarvis::test::TempDir volume(other_filesystem);
    jarvis::test::TempDir beside; // the temporary directory's filesystem: a hard link into the other volume below
    const fs::path video = videos.path() / "clip.mp4";
    fs::copy_file(jarvis::test::sample_video(), video);
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    // Described as 10 seconds of a phone's 1080p at 120 Mbit/s (150 MB): its copy is what tips auto to frames.
    auto media = described_video(video.string(), 10, 1920, 1080, 250);
    media.size_bytes = 150'000'000;

    jarvis::StagedCopies copies;
    const auto first = jarvis::decide_delivery(media, loadout, config, {}, &copies);
    CHECK(first.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(first.why, Contains("it would be copied into it, 150 MB"));

    const auto staged = copies.stage(video, volume.path()); // the first question went by file, forced
    const auto follow_up = jarvis::decide_delivery(media, loadout, config, {}, &copies);
    INFO(follow_up.why);
    CHECK(follow_up.mode == jarvis::DeliveryMode::file);
    CHECK_THAT(follow_up.why, Contains("the copy made for an earlier question is used") && !Contains("would be copied"));
    // The same estimate as a video the volume holds: the server's loading, no copy.
    jarvis::ProviderConfig beside_config;
    beside_config.input_data = {beside.path().string(), "/data"};
    const auto linked = jarvis::decide_delivery(media, loadout, beside_config);
    CHECK(follow_up.estimates_s.at("file").get<double>() == Approx(linked.estimates_s.at("file").get<double>()));
}

TEST_CASE("the kept copy of another video counts as room for the next copy, unless a request still uses it", "[delivery][staging]")
{
    jarvis::test::TempDir videos;
    jarvis::test::TempDir volume(other_filesystem);
    jarvis::test::TempDir other_volume(other_filesystem);
    const fs::path video = videos.path() / "clip.mp4";
    fs::copy_file(jarvis::test::sample_video(), video);
    const uintmax_t size = fs::file_size(video);

    jarvis::StagedCopies copies;
    CHECK(copies.bytes_freed_by_next_copy(volume.path()) == 0);
    {
        const auto in_use = copies.stage(video, volume.path());
        CHECK(copies.bytes_freed_by_next_copy(volume.path()) == 0); // its request still reads it
    }
    CHECK(copies.bytes_freed_by_next_copy(volume.path()) == size);
    CHECK(copies.bytes_freed_by_next_copy(other_volume.path()) == 0);

    // A recording larger than the tmpfs holds fits only in what the kept copy would free.
    const fs::path large = sparse_file(videos.path() / "recording.mkv", uintmax_t(1) << 40);
    REQUIRE(jarvis::staging_problem(volume.path(), large));
    CHECK_FALSE(jarvis::staging_problem(volume.path(), large, uintmax_t(1) << 41));
}

TEST_CASE("a video on another volume is not copied into one without room for it, and auto does not choose file", "[delivery][staging]")
{
    jarvis::test::TempDir videos;
    jarvis::test::TempDir volume(other_filesystem);
    // Larger than the tmpfs (half this machine's memory) holds.
    const fs::path video = sparse_file(videos.path() / "recording.mkv", uintmax_t(1) << 40);
    const auto problem = jarvis::staging_problem(volume.path(), video);
    REQUIRE(problem);
    CHECK_THAT(*problem, Contains(volume.path().string()) && Contains("free, too little for a copy of '" + video.string() + "' (1099.5 GB)"));
    CHECK_THROWS_WITH(jarvis::StagedFile(video, volume.path()), Contains("too little for a copy"));
    CHECK(fs::is_empty(volume.path()));

    // On the volume's own filesystem it is linked, which takes no room.
    jarvis::test::TempDir same_volume;
    CHECK_FALSE(jarvis::staging_problem(same_volume.path(), video));
    CHECK_FALSE(jarvis::staging_copies(video, same_volume.path()));

    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    auto media = described_video(video.string(), 10, 1280, 720, 250);
    media.size_bytes = int64_t(1) << 40;
    const auto choice = jarvis::decide_delivery(media, jarvis::parse_loadout("vllm://m#nativevideo"), config);
    CHECK(choice.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(choice.why, Contains("the video cannot be staged") && Contains("too little for a copy"));
}

TEST_CASE("auto sends a one-frame video as frames: the server's loader would take one frame, Qwen3-VL refuses fewer than two", "[delivery]")
{
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    const std::string inside = (volume.path() / "still.mp4").string();

    jarvis::MediaInfo one_frame = described_video(inside, 1.0 / 30, 1280, 720, 250);
    one_frame.frame_count = 1;
    const auto still = jarvis::decide_delivery(one_frame, loadout, config);
    CHECK(still.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(still.why, Contains("would take 1 frame of it, and Qwen3-VL needs two or more"));
    // A picture given as the video (a PNG): no frame count, no duration.
    jarvis::MediaInfo picture = one_frame;
    picture.frame_count = 0;
    picture.duration_s = 0;
    CHECK_THAT(jarvis::decide_delivery(picture, loadout, config).why, Contains("no frame count"));
    // The same through an advertised host, and as a URL passed through.
    jarvis::ProviderConfig http_only;
    http_only.http_delivery.advertise = "host.docker.internal";
    CHECK(jarvis::decide_delivery(one_frame, loadout, http_only).mode == jarvis::DeliveryMode::frames);
    jarvis::MediaInfo url = one_frame;
    url.source = "https://example.com/still.mp4";
    url.is_url = true;
    CHECK(jarvis::decide_delivery(url, loadout, config).mode == jarvis::DeliveryMode::frames);
    // Two frames are enough for the server; delivery= still forces (a refusal then falls back to frames).
    jarvis::MediaInfo two_frames = one_frame;
    two_frames.frame_count = 2;
    two_frames.duration_s = 2.0 / 30;
    CHECK(jarvis::decide_delivery(two_frames, loadout, config).mode == jarvis::DeliveryMode::file);
    CHECK(jarvis::decide_delivery(one_frame, jarvis::parse_loadout("vllm://m#nativevideo#delivery=file"), config).mode ==
          jarvis::DeliveryMode::file);
}

TEST_CASE("auto sends an MP4 cut short as frames: the server's loader would sample past its end", "[delivery][damaged]")
{
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto whole = jarvis::test::make_video("index_first_10s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "10",
                                                                        "-c:v", "libx264", "-g", "60", "-movflags", "+faststart"});
    const fs::path cut = volume.path() / "cut.mp4";
    fs::copy_file(whole, cut);
    fs::resize_file(cut, fs::file_size(whole) * 57 / 100);

    const jarvis::MediaSource intact = jarvis::MediaSource::open(whole.string());
    CHECK_FALSE(intact.info().index_cut_at_s.has_value());
    const jarvis::MediaSource opened = jarvis::MediaSource::open(cut.string());
    REQUIRE(opened.info().index_cut_at_s.has_value());
    CHECK(*opened.info().index_cut_at_s > 4.5); // 57% of the bytes of an even picture: about 5.7 s of 10
    CHECK(*opened.info().index_cut_at_s < 6.5);
    CHECK(opened.info().duration_s == Approx(10.0));

    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    const auto decided = jarvis::decide_delivery(opened.info(), loadout, config);
    CHECK(decided.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(decided.why, Contains("cut short?") && Contains("header says 10.0 s"));
    CHECK(jarvis::decide_delivery(intact.info(), loadout, config).mode != jarvis::DeliveryMode::frames);
    // Asked for by name, the file still goes as it is.
    CHECK(jarvis::decide_delivery(opened.info(), jarvis::parse_loadout("vllm://m#nativevideo#delivery=file"), config).mode ==
          jarvis::DeliveryMode::file);
    // A Matroska cut short loses its cues with its end, so nothing is listed past it; its first bytes still give the
    // Segment's size, and its header the duration.
    const auto mkv = jarvis::test::make_video("cues_10s.mkv", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "10",
                                                               "-c:v", "libx264", "-g", "60"});
    const fs::path cut_mkv = volume.path() / "cut.mkv";
    fs::copy_file(mkv, cut_mkv);
    fs::resize_file(cut_mkv, fs::file_size(mkv) * 57 / 100);
    CHECK_FALSE(jarvis::MediaSource::open(mkv.string()).info().index_cut_at_s.has_value());
    const jarvis::MediaSource cut_matroska = jarvis::MediaSource::open(cut_mkv.string());
    REQUIRE(cut_matroska.info().index_cut_at_s.has_value());
    CHECK(*cut_matroska.info().index_cut_at_s > 4.5);
    CHECK(*cut_matroska.info().index_cut_at_s < 6.5);
    const auto mkv_decided = jarvis::decide_delivery(cut_matroska.info(), loadout, config);
    CHECK(mkv_decided.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(mkv_decided.why, Contains("cut short?") && Contains("header says 10.0 s"));
    CHECK(jarvis::decide_delivery(jarvis::MediaSource::open(mkv.string()).info(), loadout, config).mode != jarvis::DeliveryMode::frames);
}

TEST_CASE("a Matroska's first bytes give its Segment's extent, unless its size is unknown or the bytes are not Matroska",
          "[delivery][damaged]")
{
    using jarvis::matroska::segment_extent;
    // EBML header (ID 1A45DFA3, size 3, 3 bytes of content), a Void of 2 (EC 82), then the Segment (ID 18538067).
    std::vector<uint8_t> bytes = {0x1A, 0x45, 0xDF, 0xA3, 0x83, 1, 2, 3, 0xEC, 0x82, 0, 0, 0x18, 0x53, 0x80, 0x67};
    const size_t after_id = bytes.size();
    const auto with_size = [&](std::vector<uint8_t> size) {
        std::vector<uint8_t> b = bytes;
        b.insert(b.end(), size.begin(), size.end());
        return b;
    };
    // An 8-byte size as matroskaenc writes it (01 then 7 bytes): 1,000,000.
    auto b = with_size({0x01, 0, 0, 0, 0, 0x0F, 0x42, 0x40});
    auto extent = segment_extent(b.data(), b.size());
    REQUIRE(extent.has_value());
    CHECK(extent->begin == after_id + 8);
    CHECK(extent->end == after_id + 8 + 1'000'000);
    // A 1-byte size (0x80 | 5).
    b = with_size({0x85});
    extent = segment_extent(b.data(), b.size());
    REQUIRE(extent.has_value());
    CHECK(extent->end == after_id + 1 + 5);
    // Unknown sizes (all ones), in 1 and 8 bytes: a live recording's.
    b = with_size({0xFF});
    CHECK_FALSE(segment_extent(b.data(), b.size()).has_value());
    b = with_size({0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
    CHECK_FALSE(segment_extent(b.data(), b.size()).has_value());
    // Too few bytes, an MP4, nothing, and an invalid first byte.
    b = with_size({0x01, 0, 0});
    CHECK_FALSE(segment_extent(b.data(), b.size()).has_value());
    const std::vector<uint8_t> mp4 = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
    CHECK_FALSE(segment_extent(mp4.data(), mp4.size()).has_value());
    CHECK_FALSE(segment_extent(nullptr, 0).has_value());
    const std::vector<uint8_t> zero = {0, 0x45, 0xDF, 0xA3};
    CHECK_FALSE(segment_extent(zero.data(), zero.size()).has_value());
    // An EBML header whose size runs past the bytes given.
    const std::vector<uint8_t> long_header = {0x1A, 0x45, 0xDF, 0xA3, 0x88, 1, 2};
    CHECK_FALSE(segment_extent(long_header.data(), long_header.size()).has_value());
}

TEST_CASE("an MP4's index says how far counting frames at the average rate strays from their times", "[delivery][vfr]")
{
    const auto open = [](const fs::path& p) { return jarvis::MediaSource::open(p.string()).info(); };
    // Constant rate, B-frames reordered, a start time that is not zero: the decoding times are evenly spaced.
    const auto constant = open(jarvis::test::make_video("cfr_bframes_late_start.mp4",
                                                        {"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "4", "-c:v",
                                                         "libx264", "-bf", "3", "-output_ts_offset", "2.5"}));
    CHECK(constant.average_rate_error_s < 0.01);
    // 2 s at 30 fps, then a frame every 4/30 s: frame 60 at 2.0 s, at the average rate 3.8 s.
    const auto varying = open(jarvis::test::make_video("vfr_6s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6", "-vf",
                                                                      "setpts='if(lt(N,60),N/30,2+(N-60)*4/30)/TB'", "-fps_mode", "vfr",
                                                                      "-c:v", "libx264", "-bf", "2"}));
    CHECK(varying.average_rate_error_s == Approx(1.8).margin(0.15));
    // Matroska's cues list keyframes only: nothing to tell from.
    const auto matroska = open(jarvis::test::make_video("vfr_6s.mkv", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6", "-vf",
                                                                       "setpts='if(lt(N,60),N/30,2+(N-60)*4/30)/TB'", "-fps_mode", "vfr",
                                                                       "-c:v", "libx264"}));
    CHECK(matroska.average_rate_error_s == 0);

    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    jarvis::MediaInfo media = described_video((volume.path() / "clip.mp4").string(), 10, 640, 360, 60);
    media.average_rate_error_s = 0.9; // a phone dropping the odd frame: the server's times are good enough
    CHECK(jarvis::decide_delivery(media, loadout, config).mode == jarvis::DeliveryMode::file);
    media.average_rate_error_s = 1.5;
    const auto decided = jarvis::decide_delivery(media, loadout, config);
    CHECK(decided.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(decided.why, Contains("frame rate varies") && Contains("up to 1.5 s off"));
    media.source = "https://example.com/clip.mp4";
    media.is_url = true;
    CHECK(jarvis::decide_delivery(media, loadout, config).mode == jarvis::DeliveryMode::frames);
}

TEST_CASE("auto sends as frames a video whose first track the server's loader would read instead", "[delivery][streams]")
{
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    jarvis::MediaInfo media = described_video((volume.path() / "two cameras.mkv").string(), 10, 640, 360, 60);
    CHECK(jarvis::decide_delivery(media, loadout, config).mode == jarvis::DeliveryMode::file);
    // The rear camera's track first: OpenCV reads it, FFmpeg's pick (TorchCodec's) is the front camera.
    media.first_video_stream_if_other = "stream 0: h264 320x180";
    const auto opencv = jarvis::decide_delivery(media, loadout, config);
    CHECK(opencv.mode == jarvis::DeliveryMode::frames);
    CHECK_THAT(opencv.why, Contains("would read its first video stream (stream 0: h264 320x180), not the video (640x360)"));
    config.vllm.video_decoder = "torchcodec";
    CHECK(jarvis::decide_delivery(media, loadout, config).mode == jarvis::DeliveryMode::file);
    media.best_video_stream_if_other = "stream 0: h264 320x180";
    CHECK_THAT(jarvis::decide_delivery(media, loadout, config).why, Contains("would read its preferred video stream"));
    // A URL goes to the server as it is unless the server would read another stream.
    media.source = "https://example.com/two-cameras.mkv";
    media.is_url = true;
    CHECK(jarvis::decide_delivery(media, loadout, config).mode == jarvis::DeliveryMode::frames);
    media.best_video_stream_if_other.clear();
    CHECK(jarvis::decide_delivery(media, loadout, config).mode == jarvis::DeliveryMode::url);
}

TEST_CASE("the cost model's frame counts follow the keyframe interval the container's index gives", "[delivery][cost]")
{
    const jarvis::DeliveryRates rates;
    // 60 samples of 18,000 frames, 300 apart: each lies half an interval after its keyframe, half of the way decoded.
    auto work = jarvis::video_work(described_video("/v.mp4", 600, 1920, 1080, 250), 17999, 60, 0.41);
    CHECK(work.server_decoded == 18000);
    CHECK(work.keyframe_interval == 250);
    CHECK(jarvis::expected_client_frames(work, rates) == 60 + 60 * 125 / 2);
    // Short intervals (a keyframe a second): far less to decode before each target.
    work = jarvis::video_work(described_video("/v.mp4", 600, 1920, 1080, 30), 17999, 60, 0.41);
    CHECK(work.keyframe_interval == 30);
    CHECK(jarvis::expected_client_frames(work, rates) == 60 + 60 * 15 / 2);
    // 768 samples 23.4 frames apart: every one of the 72 intervals is decoded up to its last target, 11.7 frames
    // before its end on average, so 17,156 frames up to the targets; the 16,388 that are not targets, half decoded.
    work = jarvis::video_work(described_video("/v.mp4", 600, 1920, 1080, 250), 17999, 768, 0.03);
    CHECK(jarvis::expected_client_frames(work, rates) == 768 + (17156 - 768) / 2);
    // Dense sampling never decodes more than the whole video.
    work = jarvis::video_work(described_video("/v.mp4", 10, 1920, 1080, 250), 299, 1000, 0.41);
    CHECK(jarvis::expected_client_frames(work, rates) == 300);
    // A container without an index: x264's default interval is assumed.
    auto unindexed = described_video("/v.mkv", 600, 1920, 1080, 250);
    unindexed.indexed_keyframes = 0;
    CHECK(jarvis::video_work(unindexed, 17999, 60, 0.41).keyframe_interval == 250);
}

TEST_CASE("with a ctx, the frames estimate counts the fewer frames the context lets through", "[delivery][cost]")
{
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto long_video = described_video((volume.path() / "clip.mp4").string(), 600, 1920, 1080, 250);
    const auto unfitted = jarvis::decide_delivery(long_video, jarvis::parse_loadout("vllm://m#nativevideo"), config);
    const auto fitted = jarvis::decide_delivery(long_video, jarvis::parse_loadout("vllm://m#nativevideo#ctx=16384"), config);
    // 122 frames fit ctx=16384 (as the plan takes them), 147.5 frames apart: each of the 72 intervals is decoded up
    // to its last one, 73.8 frames before its end on average, half of the frames that are not targets decoded.
    CHECK_THAT(fitted.why, Contains("we decode about 6405 of them"));
    CHECK_THAT(unfitted.why, Contains("we decode about 8962 of them"));
    CHECK(fitted.estimates_s.at("frames").get<double>() < 0.8 * unfitted.estimates_s.at("frames").get<double>());
    // The server still decodes up to its last sample, near the end, at whatever lower fps the ctx leaves it.
    CHECK(fitted.estimates_s.at("file").get<double>() == Approx(unfitted.estimates_s.at("file").get<double>()));
}

TEST_CASE("a clip of one keyframe interval decodes on one core: its pictures are counted at half the speed", "[delivery][cost]")
{
    // The client rate was measured with an interval per core on two cores; a clip shorter than an interval (250
    // frames here) has one to decode. Measured on 6 s of 1080p30 x264: 102 pictures in 1.0 s, one core busy.
    const jarvis::DeliveryRates rates;
    const auto seconds_per_picture = [&](double seconds, int64_t samples) {
        const auto work = jarvis::video_work(described_video("/v.mp4", seconds, 1920, 1080, 250), int64_t(seconds * 30) - 1, samples, 0.74);
        return jarvis::expected_client_decode_seconds(work, rates) / double(jarvis::expected_client_frames(work, rates));
    };
    CHECK(seconds_per_picture(6, 12) == Approx(2 * seconds_per_picture(60, 120)));
    CHECK(seconds_per_picture(20, 40) == Approx(seconds_per_picture(60, 120))); // 2.4 intervals: both cores busy
    CHECK(seconds_per_picture(60, 1) == Approx(seconds_per_picture(6, 12)));    // one target: one interval to decode
}

TEST_CASE("decoders the memory budget does not allow are not counted: fewer of them take longer", "[delivery][cost]")
{
    // 10 minutes of 4K 10-bit (a decoder about 207 MB), 72 intervals with targets, on 8 cores.
    const jarvis::DeliveryRates rates;
    auto video = described_video("/v.mp4", 600, 3840, 2160, 250);
    video.decoder_memory = {8 * 3840 * 2160 * 3 + 8 * 1024 * 1024, 2 * 3840 * 2160 * 3 + 1024 * 1024};
    auto work = jarvis::video_work(video, 17999, 768, 0.03);
    work.cores = 8;
    const double unbounded = jarvis::expected_client_decode_seconds(work, rates);
    work.decode_memory_bytes = 512LL * 1024 * 1024; // two decoders instead of eight
    CHECK(jarvis::expected_client_decode_seconds(work, rates) == Approx(4 * unbounded));
    work.decode_memory_bytes = 0; // one
    CHECK(jarvis::expected_client_decode_seconds(work, rates) == Approx(8 * unbounded));
    work.cores = 2; // the budget holds both of a 2-core machine's decoders: as measured
    work.decode_memory_bytes = 512LL * 1024 * 1024;
    CHECK(jarvis::expected_client_decode_seconds(work, rates) == Approx(unbounded));

    // Through auto: with no room for a second decoder, the frames estimate of the 10-minute 4K clip grows.
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    auto in_volume = described_video((volume.path() / "clip.mp4").string(), 600, 3840, 2160, 250);
    in_volume.decoder_memory = video.decoder_memory;
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    const double roomy = jarvis::decide_delivery(in_volume, loadout, config).estimates_s.at("frames").get<double>();
    config.frames.decode_memory_bytes = 0;
    const double cramped = jarvis::decide_delivery(in_volume, loadout, config).estimates_s.at("frames").get<double>();
    if (std::thread::hardware_concurrency() > 1)
        CHECK(cramped > roomy);
    else
        CHECK(cramped == Approx(roomy)); // one core: one decoder either way
}

TEST_CASE("a server that seeks (vllm.video_decoder torchcodec) is counted as decoding from each sample's keyframe", "[delivery][cost]")
{
    jarvis::test::TempDir volume;
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto long_video = described_video((volume.path() / "clip.mp4").string(), 600, 1920, 1080, 250);
    const auto sparse = jarvis::parse_loadout("vllm://m#nativevideo#fps=0.1");
    const auto walking = jarvis::decide_delivery(long_video, sparse, config);
    CHECK_THAT(walking.why, Contains("the server decodes 18000 frames")); // up to the last sample, the video's last frame
    config.vllm.video_decoder = "torchcodec";
    // 60 samples 300 frames apart, each half a 250-frame interval after its keyframe, every frame between decoded.
    const auto seeking = jarvis::decide_delivery(long_video, sparse, config);
    CHECK_THAT(seeking.why, Contains("the server decodes 7560 frames"));
    CHECK(seeking.estimates_s.at("file").get<double>() * 2 < walking.estimates_s.at("file").get<double>());
    // Dense sampling gains next to nothing: 768 samples 23.4 frames apart, so each interval is decoded up to its last
    // sample, on average 11.7 frames before its end (72 x 238.3).
    const auto dense = jarvis::decide_delivery(long_video, jarvis::parse_loadout("vllm://m#nativevideo"), config);
    CHECK_THAT(dense.why, Contains("the server decodes 17156 frames"));
}

TEST_CASE("the cost model's count of the frames we decode is near what the exact decode really decodes", "[delivery][cost]")
{
    // As the benchmark's 10-minute clip is made (x264 veryfast, 2 B-frames, a keyframe every 250 frames), smaller.
    const auto video = jarvis::test::make_video(
        "cost_gop250.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "60", "-c:v", "libx264", "-preset", "veryfast",
                            "-g", "250", "-keyint_min", "250", "-sc_threshold", "0", "-bf", "2", "-pix_fmt", "yuv420p"});
    jarvis::MediaSource source = jarvis::MediaSource::open(video.string());
    const auto index = jarvis::cached_frame_index(source, {});
    jarvis::ExtractionRequest request;
    request.source = video.string();
    request.stream_index = source.stream_index();
    request.codec = source.stream()->codecpar;
    request.width = 64;
    request.height = 48;
    // Sparse (a target every 12 s, further apart than the 8.3 s intervals) and dense (2 a second, as Qwen3-VL samples).
    for (const int64_t samples : {5, 120}) {
        const auto choice = jarvis::choose_frames(*index, samples, 2, std::nullopt, std::nullopt, jarvis::SeekMode::exact);
        const jarvis::Extraction decoded = jarvis::extract_frames(request, *index, choice.targets, {});
        const auto work = jarvis::video_work(source.info(), source.info().frame_count - 1, static_cast<int64_t>(choice.targets.size()), 0.003);
        const int64_t expected = jarvis::expected_client_frames(work, jarvis::DeliveryRates{});
        INFO(samples << " samples: " << decoded.pictures_decoded << " pictures decoded, " << expected << " expected");
        CHECK(decoded.frames.size() == choice.targets.size());
        CHECK(double(expected) > 0.75 * double(decoded.pictures_decoded));
        CHECK(double(expected) < 1.25 * double(decoded.pictures_decoded));
    }
}

TEST_CASE("the container's index tells the keyframes of an MP4 and a Matroska without reading them", "[delivery][cost]")
{
    const jarvis::MediaSource source = jarvis::MediaSource::open(jarvis::test::sample_video().string());
    CHECK(source.info().indexed_keyframes > 0);
    CHECK(source.info().indexed_keyframes <= source.info().frame_count);
    // Matroska's cues are read on a first seek, which opening makes; it states no frame count.
    const auto mkv = jarvis::test::make_video("cues_gop30.mkv", {"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "10",
                                                                 "-c:v", "libx264", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0"});
    const jarvis::MediaSource matroska = jarvis::MediaSource::open(mkv.string());
    CHECK(matroska.info().frame_count == 0);
    CHECK(matroska.info().indexed_keyframes == 10);
}

TEST_CASE("delivery_costs in the configuration replace the cost model's defaults, and bad values are refused", "[delivery][cost]")
{
    const auto config = jarvis::parse_provider_config(
        std::string(R"({"delivery_costs": {"server_decode_ms_per_megapixel": 0.3, "upload_mb_per_s": 1000}})"), "test");
    const jarvis::DeliveryRates rates = jarvis::delivery_rates(config.delivery_costs);
    CHECK(rates.server_decode_ms_per_megapixel == 0.3);
    CHECK(rates.upload_mb_per_s == 1000);
    CHECK(rates.volume_read_mb_per_s == jarvis::DeliveryRates{}.volume_read_mb_per_s);
    CHECK(rates.client_decode_ms_per_megapixel == jarvis::default_client_decode_ms_per_megapixel);
    const auto gpu = jarvis::parse_provider_config(std::string(R"({"delivery_costs": {"client_decode_ms_per_megapixel": 0.12}})"), "test");
    CHECK(jarvis::delivery_rates(gpu.delivery_costs).client_decode_ms_per_megapixel == 0.12);
    // For a video, the GPU's rate holds only where frames.hardware_decode is on and the video's decoder can use that
    // kind of GPU (this FFmpeg's hardware configurations): H.264 on VA-API, not on Vulkan (FFmpeg 5.1 has no Vulkan
    // decoding), and no PNG anywhere.
    const auto rate_for = [&](const std::string& hardware_decode, const std::string& codec) {
        jarvis::ProviderConfig with = gpu;
        with.frames.hardware_decode = hardware_decode;
        jarvis::MediaInfo media;
        media.codec = codec;
        return jarvis::delivery_rates(with, media).client_decode_ms_per_megapixel;
    };
    CHECK(rate_for("vaapi", "h264") == 0.12);
    CHECK(rate_for("vaapi:/dev/dri/renderD129", "hevc") == 0.12);
    CHECK(rate_for("off", "h264") == jarvis::default_client_decode_ms_per_megapixel);
    CHECK(rate_for("vulkan", "h264") == jarvis::default_client_decode_ms_per_megapixel);
    CHECK(rate_for("vaapi", "png") == jarvis::default_client_decode_ms_per_megapixel);
    CHECK(rate_for("vaapi", "no-such-codec") == jarvis::default_client_decode_ms_per_megapixel);
    CHECK_THROWS_WITH(jarvis::parse_provider_config(std::string(R"({"delivery_costs": {"client_decode_ms_per_megapixel": -1}})"), "test"),
                      Contains("delivery_costs.client_decode_ms_per_megapixel") && Contains("positive"));
    CHECK_THROWS_WITH(jarvis::parse_provider_config(std::string(R"({"delivery_costs": {"upload_mb_per_s": 0}})"), "test"),
                      Contains("delivery_costs.upload_mb_per_s") && Contains("positive"));
    // Keys it does not own are left to their owner, with a warning, as everywhere in the document.
    const auto tolerant = jarvis::parse_provider_config(std::string(R"({"delivery_costs": {"gpu": 1}})"), "test");
    REQUIRE(tolerant.warnings.size() == 1);
    CHECK_THAT(tolerant.warnings.front(), Contains("delivery_costs.gpu"));
}

TEST_CASE("probe's client_decoding suggests the CPU rate scaled by the GPU's speed, and nothing where the GPU did not decode all", "[delivery][cost][probe]")
{
    // 720p (0.9216 MP), 60 and 600 frames by each of two decoders: 1,080 more pictures in the longer video.
    jarvis::ClientDecodingTimes t;
    t.hardware_decode = "auto";
    t.device = "cuda";
    t.codec = "h264";
    t.megapixels = 0.9216;
    t.users_video = true;
    t.pictures = {120, 1200};
    t.on_gpu = {120, 1200};
    t.cpu_s = {0.3, 2.3}; // 2 s more on the CPU
    t.gpu_s = {0.2, 0.7}; // 0.5 s more on the GPU: 4x
    const jarvis::DeliveryCostConfig unset;
    const nlohmann::json fast = jarvis::client_decoding_report(t, unset);
    INFO(fast.dump());
    CHECK(fast["client_decode_ms_per_megapixel"].get<double>() == Approx(jarvis::default_client_decode_ms_per_megapixel / 4));
    CHECK(fast["cpu_ms_per_megapixel"].get<double>() == Approx(2.0 * 1000 / (1080 * 0.9216)));
    CHECK(fast["gpu_ms_per_megapixel"].get<double>() == Approx(0.5 * 1000 / (1080 * 0.9216)));
    CHECK_THAT(fast["advice"].get<std::string>(), Contains("cuda decoded the h264 video given 4x as fast as the CPU") &&
                                                      Contains("delivery_costs.client_decode_ms_per_megapixel to 0.36") &&
                                                      Contains("now the default 1.4"));

    // Some pictures decoded in software (a profile the GPU lacks): no rate, and the count said.
    auto partly = t;
    partly.on_gpu = {120, 600};
    const nlohmann::json part = jarvis::client_decoding_report(partly, unset);
    CHECK(part["client_decode_ms_per_megapixel"].is_null());
    CHECK_THAT(part["advice"].get<std::string>(), Contains("cuda decoded 600 of the 1200 pictures"));

    // Slower than the CPU: keep it off.
    auto slow = t;
    slow.gpu_s = {0.3, 3.3};
    const nlohmann::json slower = jarvis::client_decoding_report(slow, unset);
    CHECK(slower["client_decode_ms_per_megapixel"].is_null());
    CHECK_THAT(slower["advice"].get<std::string>(), Contains("no faster than the CPU") && Contains("\"off\""));

    // No device: why, and no times.
    jarvis::ClientDecodingTimes none;
    none.hardware_decode = "d3d11va";
    none.unavailable = "no GPU decoder could be opened (d3d11va: Unknown error occurred)";
    const nlohmann::json absent = jarvis::client_decoding_report(none, unset);
    CHECK(absent["device"].is_null());
    CHECK_FALSE(absent.contains("gpu_s"));
    CHECK_THAT(absent["advice"].get<std::string>(), Contains("frames.hardware_decode is \"d3d11va\", but no GPU decoder could be opened"));
}
