#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jarvis {

// The encoded media of one video as a request carries it, kept so that a follow-up question decodes and encodes
// nothing: the content parts (data URLs and uuids included) and the plan's "media" and visual token count.
struct CachedMedia
{
    nlohmann::json parts;
    nlohmann::json media_summary;
    nlohmann::json estimate; // the plan's "estimate" of the first question
    std::vector<std::string> warnings; // what sampling said about the video
    int64_t visual_tokens = 0;
    size_t bytes = 0;        // what the entry costs in memory
};

// Process-wide (one per plugin library), least recently used out once the entries exceed `capacity_bytes`
// (the configuration's conversation.cache_mb; 0 keeps nothing).
std::shared_ptr<const CachedMedia> find_cached_media(const std::string& media_key);
void cache_media(const std::string& media_key, std::shared_ptr<const CachedMedia> media, int64_t capacity_bytes);

} // namespace jarvis
