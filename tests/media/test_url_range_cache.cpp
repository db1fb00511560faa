// The bytes of a URL kept for a second pass over the same ranges: read back exactly, never stored twice, and no more
// than the cap allows.
#include "media/url_range_cache.hpp"

#include <catch2/catch.hpp>

#include <climits>
#include <string>
#include <vector>

namespace {

std::string bytes_at(int64_t offset, size_t size)
{
    std::string out;
    for (size_t i = 0; i < size; ++i)
        out.push_back(static_cast<char>((offset + static_cast<int64_t>(i)) % 251));
    return out;
}

void store(jarvis::UrlRangeCache& cache, int64_t offset, size_t size)
{
    const std::string data = bytes_at(offset, size);
    cache.store(offset, reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

// Reads [offset, offset + size) run by run, as the reader does; what is not cached ends it.
std::string read(const jarvis::UrlRangeCache& cache, int64_t offset, size_t size)
{
    std::string out;
    std::vector<uint8_t> buffer(size);
    while (out.size() < size) {
        const size_t n = cache.read(offset + static_cast<int64_t>(out.size()), buffer.data(), size - out.size());
        if (n == 0)
            break;
        out.append(reinterpret_cast<const char*>(buffer.data()), n);
    }
    return out;
}

} // namespace

TEST_CASE("a URL's bytes are read back as received, and what was not received is not there", "[media][http][cache]")
{
    jarvis::UrlRangeCache cache;
    store(cache, 1000, 500);
    store(cache, 5000, 100);
    CHECK(read(cache, 1000, 500) == bytes_at(1000, 500));
    CHECK(read(cache, 1200, 50) == bytes_at(1200, 50));
    CHECK(read(cache, 1400, 300) == bytes_at(1400, 100)); // up to the run's end
    CHECK(read(cache, 999, 10).empty());
    CHECK(read(cache, 1500, 10).empty());
    CHECK(read(cache, 0, 10).empty());
    CHECK(cache.next_cached_after(0) == 1000);
    CHECK(cache.next_cached_after(1000) == 5000);
    CHECK(cache.next_cached_after(1600) == 5000);
    CHECK(cache.next_cached_after(5000) == INT64_MAX);
    CHECK(cache.bytes_held() == 600);
}

TEST_CASE("bytes received again or around what is cached are kept once, filling the gaps", "[media][http][cache]")
{
    jarvis::UrlRangeCache cache;
    store(cache, 100, 100);  // [100, 200)
    store(cache, 300, 100);  // [300, 400)
    store(cache, 50, 400);   // [50, 450): only the gaps are new
    CHECK(cache.bytes_held() == 400);
    CHECK(read(cache, 50, 400) == bytes_at(50, 400));
    store(cache, 150, 100); // inside what is held
    CHECK(cache.bytes_held() == 400);
    CHECK(read(cache, 40, 20).empty());
}

TEST_CASE("past its cap the cache keeps nothing more, and what it kept stays whole", "[media][http][cache]")
{
    jarvis::UrlRangeCache cache(1000);
    store(cache, 0, 600);
    store(cache, 10'000, 600); // only 400 of these fit
    CHECK(cache.bytes_held() == 1000);
    CHECK(read(cache, 0, 600) == bytes_at(0, 600));
    CHECK(read(cache, 10'000, 600) == bytes_at(10'000, 400));
    store(cache, 20'000, 10);
    CHECK(read(cache, 20'000, 10).empty());
    CHECK(cache.bytes_held() == 1000);
}
