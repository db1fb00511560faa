// The frame index of an MP4 from its sample tables (media/frameless_demuxer) against the scan of every packet (how
// every index was made before, and still is for other containers), on a cold cache: before each scan the video's pages
// are dropped (posix_fadvise), so the time is what a recording on disk costs before its first frame can be decoded.
// Alternating, median of the rounds; also the bytes each read (/proc/self/io's rchar).
//
//   cmake --build --preset release --target index_bench
//   build/release/bin/index_bench VIDEO.mp4 [ROUNDS]
#include "bytes_read.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace jarvis;
using jarvis::test::bytes_read_so_far;

namespace {

void drop_from_page_cache(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0 || ::fdatasync(fd) != 0 || ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
        std::perror(path.c_str());
        std::exit(1);
    }
    ::close(fd);
}

struct Scan
{
    double seconds = 0;
    int64_t bytes = 0;
    size_t frames = 0;
};

Scan timed_scan(const std::string& video, bool sample_tables)
{
    drop_from_page_cache(video);
    const auto start = std::chrono::steady_clock::now();
    const int64_t before = bytes_read_so_far();
    MediaSource source = MediaSource::open(video); // the header, as every request reads it, in both
    const FrameIndex index = sample_tables ? scan_frame_index(source, {}) : scan_frame_index_reading_every_packet(source, {});
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), bytes_read_so_far() - before,
            index.frames.size()};
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: index_bench VIDEO.mp4 [ROUNDS]\n");
        return 2;
    }
    const std::string video = argv[1];
    const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
    std::vector<double> tables_s, every_s;
    Scan tables, every;
    for (int round = 0; round < rounds; ++round) {
        every = timed_scan(video, false);
        tables = timed_scan(video, true);
        every_s.push_back(every.seconds);
        tables_s.push_back(tables.seconds);
        if (tables.frames != every.frames) {
            std::fprintf(stderr, "the scans disagree: %zu frames from the sample tables, %zu from every packet\n", tables.frames,
                         every.frames);
            return 1;
        }
    }
    std::printf("%s, %zu frames, cold cache, median of %d rounds:\n", video.c_str(), every.frames, rounds);
    std::printf("  every packet   %8.3f s  %12lld bytes read\n", median(every_s), static_cast<long long>(every.bytes));
    std::printf("  sample tables  %8.3f s  %12lld bytes read  (%.1fx sooner)\n", median(tables_s), static_cast<long long>(tables.bytes),
                median(every_s) / median(tables_s));
    return 0;
}
