#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace jarvis::qwen {

// A byte-level BPE model from its merges alone: one per line, in rank order, as two token numbers "left right",
// where 0..255 are the single bytes (by byte value) and the result of the merge on line n (from 0) is 256 + n
// (scripts/update_qwen_tokenizer.sh writes them so). Counting tokens needs no vocabulary: every merge makes
// a token of the vocabulary.
class BytePairMerges
{
public:
    explicit BytePairMerges(std::string_view merges_text);

    // How many tokens BPE makes of one pre-tokenized piece (raw UTF-8 bytes).
    size_t count(std::string_view piece) const;
    size_t merge_count() const { return merges_.size(); }

    // The two ways count() takes, by the piece's length: both give the same count at any length (fuzz_tokenizer
    // checks that), the scan in quadratic time, the queue in O(n log n).
    size_t count_by_scan(std::string_view piece) const;
    size_t count_by_queue(std::string_view piece) const;

private:

    struct Merge
    {
        uint32_t rank;
        uint32_t token;
    };
    static uint64_t key(uint32_t left, uint32_t right) { return uint64_t{left} << 32 | right; }
    std::unordered_map<uint64_t, Merge> merges_;
};

} // namespace jarvis::qwen
