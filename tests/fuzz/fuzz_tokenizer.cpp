// libFuzzer: any bytes as a prompt. Counting its tokens never fails, gives at most three per byte (normalization can
// make UTF-8 text up to three times longer; a token has at least one byte), and the two ways a piece's merges are
// made, the scan for short pieces and the queue for long ones, count the same.
#include "tokenizer/byte_pair_merges.hpp"
#include "tokenizer/qwen_tokenizer.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace jarvis::embedded {
extern const std::string_view qwen3_merges;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const int64_t tokens = jarvis::qwen::count_tokens(text);
    if (tokens < 0 || static_cast<uint64_t>(tokens) > 3 * static_cast<uint64_t>(size))
        std::abort();
    static const jarvis::qwen::BytePairMerges merges(jarvis::embedded::qwen3_merges);
    // The input as one piece of raw bytes (BPE takes any bytes); the scan is quadratic, so not on long inputs.
    if (size <= 2048 && merges.count_by_scan(text) != merges.count_by_queue(text))
        std::abort();
    return 0;
}
