#pragma once

#include <cstdint>
#include <string_view>

namespace jarvis::qwen {

// How many tokens Qwen3-VL's tokenizer makes of UTF-8 text, exactly: its special tokens written in the text
// (<|im_start|>, <|vision_start|>, ...) count one each, the rest is NFC-normalized, split by its pre-tokenizer's
// regular expression and counted by byte-level BPE over its merges (tokenizer/qwen3_merges.txt, embedded).
// The merges are read once per process, on first use (about 0.1 s); thread-safe.
int64_t count_tokens(std::string_view utf8);

} // namespace jarvis::qwen
