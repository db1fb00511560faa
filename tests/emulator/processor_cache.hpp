#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace jarvis::emulator {

// vLLM's multimodal processor cache (vllm/multimodal/cache.py, processing/processor.py): processed media keyed by
// the part's uuid when it has one, else by a hash of its content; least recently used out beyond
// --mm-processor-cache-gb (0: no cache). A part that carries a uuid but no media is served from here, or refused
// with vLLM's "Cache miss for <modality> at index <i> but data is not provided." The size of an entry is estimated
// from its visual tokens (the processed pixel values vLLM keeps).
class ProcessorCache
{
public:
    struct Item
    {
        nlohmann::json description; // what the emulator says about the media in its answer
        int64_t tokens = 0;
    };

    explicit ProcessorCache(double capacity_gb);

    bool enabled() const { return capacity_bytes_ > 0; }
    std::optional<Item> find(const std::string& key);
    void store(const std::string& key, Item item);

private:
    struct Entry
    {
        std::string key;
        Item item;
        uint64_t bytes = 0;
    };
    uint64_t capacity_bytes_;
    uint64_t total_bytes_ = 0;
    std::list<Entry> entries_; // most recently used first
    std::mutex mutex_;
};

// The prompt as vLLM's prefix cache sees it: a sequence of pieces (the template of each message, its text, each
// media item by its key and tokens), compared with the previous request's to say how many prompt tokens the two
// share from the start (automatic prefix caching reuses those).
class PrefixTracker
{
public:
    struct Piece
    {
        std::string key;    // "text:" + the text, "media:" + the uuid or content hash, "message:" + role
        int64_t tokens = 0;
    };

    struct Shared
    {
        int64_t tokens = 0;          // shared from the start
        int64_t previous_tokens = 0; // all of the previous request's (shared == previous: it was repeated whole)
    };

    // What `pieces` shares with the previous request's from the start; remembers `pieces` as the previous.
    Shared shared_with_previous(std::vector<Piece> pieces);

private:
    std::vector<Piece> previous_;
    std::mutex mutex_;
};

} // namespace jarvis::emulator
