#include "tools/stage_copy_timing.hpp"

#include "platform/file_access.hpp"
#include "platform/native_path.hpp"
#include "tools/probe_files.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int64_t mebibyte = 1 << 20;
// Long enough on a fast SSD (0.1 s at 2.5 GB/s) to time; short enough on a hard disk (2 s).
constexpr int64_t timed_bytes = 256 * mebibyte;
constexpr int64_t least_timed_bytes = 32 * mebibyte;
// Left free beside the copy, as staging leaves: the disk is not filled to its last byte.
constexpr int64_t headroom_bytes = 256 * mebibyte;

} // namespace

json measure_stage_copy(const fs::path& volume_dir, const fs::path& video, int64_t already_read_bytes, const DeliveryCostConfig& configured,
                        const plugin::Call& call)
{
    json out = {{"video", utf8_path(video)}, {"stage_copy_mb_per_s", nullptr}};
    const std::string keep = configured.stage_copy_mb_per_s ? "keep delivery_costs.stage_copy_mb_per_s as it is"
                                                            : fmt::format("delivery=auto assumes {:g} MB/s", default_stage_copy_mb_per_s);
    if (can_hard_link(video, volume_dir)) {
        out["copies"] = false;
        out["advice"] = "the video is on the shared volume's drive: the file delivery links it into the volume and copies nothing";
        return out;
    }
    out["copies"] = true;
    std::error_code ec;
    const auto size = static_cast<int64_t>(fs::file_size(video, ec));
    if (ec) {
        out["advice"] = fmt::format("cannot time a copy of '{}': {}; {}", utf8_path(video), ec.message(), keep);
        return out;
    }
    const int64_t start = std::min(size, std::max<int64_t>(0, already_read_bytes));
    const int64_t to_time = std::min(timed_bytes, size - start);
    if (to_time < least_timed_bytes) {
        out["advice"] = fmt::format("the video has {:.0f} MB past what the probe read, too little to time a copy (at least {} MB); "
                                    "give a larger one to measure; {}",
                                    double(size - start) / 1e6, least_timed_bytes / mebibyte, keep);
        return out;
    }
    const fs::space_info space = fs::space(volume_dir, ec);
    if (!ec && space.available < static_cast<uintmax_t>(start + to_time + headroom_bytes)) {
        out["advice"] = fmt::format("the shared volume has too little room to time a copy ({:.0f} MB free); {}", double(space.available) / 1e6,
                                    keep);
        return out;
    }

    // Copied as staging copies, with the clock running from past the part just read to the bytes timed.
    const ProbeFile copy{unique_probe_path(volume_dir, ".copy")};
    std::optional<Clock::time_point> started;
    int64_t started_at = 0;
    Clock::time_point stopped;
    int64_t timed = 0;
    bool cancelled = false;
    const std::error_code copy_error = copy_file_reporting(video, copy.path, [&](int64_t copied) {
        if (call.cancelled()) {
            cancelled = true;
            return false;
        }
        if (!started) {
            if (copied >= start) { // the bytes up to here are not counted
                started = Clock::now();
                started_at = copied;
            }
            return true;
        }
        stopped = Clock::now();
        timed = copied - started_at;
        return timed < to_time;
    });
    if (cancelled)
        call.throw_if_cancelled();
    if (copy_error && copy_error != std::errc::operation_canceled) {
        out["advice"] = fmt::format("copying '{}' into the shared volume failed: {}; {}", utf8_path(video), copy_error.message(), keep);
        return out;
    }
    const double seconds = started ? std::chrono::duration<double>(stopped - *started).count() : 0;
    out["copied_mb"] = double(timed) / 1e6;
    out["seconds"] = seconds;
    // The clock starts at the first step past the part read: up to one step (4 MB here) less than planned is timed.
    if (timed < least_timed_bytes / 2 || !(seconds > 0)) {
        out["advice"] = fmt::format("the copy went too fast, or in too few steps, to time; {}", keep);
        return out;
    }
    const double rate = double(timed) / 1e6 / seconds;
    out["stage_copy_mb_per_s"] = rate;
    out["advice"] = fmt::format("copying the video into the shared volume ran at {:.0f} MB/s: set delivery_costs.stage_copy_mb_per_s to "
                                "{:.0f} ({}) so that delivery=auto weighs a copy of a video on that drive",
                                rate, rate,
                                configured.stage_copy_mb_per_s ? fmt::format("now {:g}", *configured.stage_copy_mb_per_s)
                                                               : fmt::format("now the default {:g}", default_stage_copy_mb_per_s));
    return out;
}

} // namespace jarvis
