#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace jarvis {

// Bytes of one URL already received, by offset, so that a second pass over the same ranges (the decoding after the
// index made by seeking, which read each keyframe interval up to its frame) does not fetch them again. Up to a cap:
// past it, new bytes are not kept and are fetched again when read again. Safe to share between threads.
class UrlRangeCache
{
public:
    explicit UrlRangeCache(size_t capacity_bytes = default_capacity) : capacity_(capacity_bytes) {}

    // Copies the cached bytes that start at `offset`, up to `size`; 0 when the byte at `offset` is not cached.
    size_t read(int64_t offset, uint8_t* out, size_t size) const;
    // Where the first cached byte after `offset` is (INT64_MAX when none): a read from the network stops there.
    int64_t next_cached_after(int64_t offset) const;
    // Keeps the bytes received at `offset` that are not cached yet, while the cap allows.
    void store(int64_t offset, const uint8_t* data, size_t size);
    size_t bytes_held() const;
    size_t capacity() const { return capacity_; }

    static constexpr size_t default_capacity = 32u << 20;

private:
    mutable std::mutex mutex_;
    std::map<int64_t, std::string> runs_; // start offset -> bytes; runs never overlap
    const size_t capacity_;
    size_t held_ = 0;
};

} // namespace jarvis
