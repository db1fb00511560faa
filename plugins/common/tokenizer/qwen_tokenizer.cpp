#include "tokenizer/qwen_tokenizer.hpp"

#include "platform/unicode_nfc.hpp"
#include "tokenizer/byte_pair_merges.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>

namespace jarvis::embedded {
extern const std::string_view qwen3_merges;
}

namespace jarvis::qwen {
namespace {

// tokenizer.json's added tokens: never split, never normalized, one token each.
constexpr std::array<std::string_view, 26> special_tokens = {
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>",
    "<think>", "</think>"};

// tokenizer.json's pre-tokenizer: Split with this expression, "Isolated" (every match and every gap is a piece).
// \s is spelt out as JavaScript's (the reference tokenizer's) white space: PCRE2's would also take U+0085 and leave
// out U+FEFF, which changes the count of text containing them.
#define JV_SPACE "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"
constexpr std::string_view pre_tokenizer_pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^" JV_SPACE "\\p{L}\\p{N}]+[\\r\\n]*|[" JV_SPACE
    "]*[\\r\\n]+|[" JV_SPACE "]+(?![^" JV_SPACE "])|[" JV_SPACE "]+";
#undef JV_SPACE

struct CodeDeleter
{
    void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter
{
    void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

class Tokenizer
{
public:
    Tokenizer() : merges_(embedded::qwen3_merges)
    {
        int error = 0;
        PCRE2_SIZE offset = 0;
        pattern_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pre_tokenizer_pattern.data()), pre_tokenizer_pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr));
        if (!pattern_)
            throw std::runtime_error("qwen tokenizer: the pre-tokenizer expression does not compile");
        pcre2_jit_compile(pattern_.get(), PCRE2_JIT_COMPLETE); // an optimisation only: matching works without it
    }

    int64_t count(std::string_view text) const
    {
        int64_t tokens = 0;
        size_t plain_start = 0;
        for (size_t at = text.find('<'); at != std::string_view::npos; at = text.find('<', at + 1)) {
            for (std::string_view special : special_tokens)
                if (text.substr(at, special.size()) == special) {
                    tokens += count_plain(text.substr(plain_start, at - plain_start)) + 1;
                    plain_start = at + special.size();
                    at = plain_start - 1;
                    break;
                }
        }
        return tokens + count_plain(text.substr(plain_start));
    }

private:
    int64_t count_plain(std::string_view text) const
    {
        if (text.empty())
            return 0;
        // ASCII is its own NFC: most prompts skip the normalizer.
        const bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
        const std::string normalized = ascii ? std::string(text) : to_nfc(text);
        const std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(pcre2_match_data_create_from_pattern(pattern_.get(), nullptr));
        const auto* subject = reinterpret_cast<PCRE2_SPTR>(normalized.data());
        int64_t tokens = 0;
        size_t at = 0;
        uint32_t options = 0;
        while (at < normalized.size()) {
            const int rc = pcre2_match(pattern_.get(), subject, normalized.size(), at, options, match.get(), nullptr);
            // A match checks the text for UTF-8 from its offset to the end: the first one checked it all. Checking again
            // at every piece would make the count quadratic in the text's length (minutes for a megabyte).
            options = PCRE2_NO_UTF_CHECK;
            if (rc < 0) {
                // No further match (or text that is not UTF-8): the rest is one piece, as the tokenizer keeps gaps.
                tokens += static_cast<int64_t>(merges_.count(std::string_view(normalized).substr(at)));
                break;
            }
            const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match.get());
            if (span[0] > at)
                tokens += static_cast<int64_t>(merges_.count(std::string_view(normalized).substr(at, span[0] - at)));
            if (span[1] == span[0]) { // the expression cannot match empty, but never loop if it did
                at = span[1] + 1;
                while (at < normalized.size() && (static_cast<unsigned char>(normalized[at]) & 0xC0) == 0x80)
                    ++at; // the next offset is a character's start, as an unchecked match needs
                continue;
            }
            tokens += static_cast<int64_t>(merges_.count(std::string_view(normalized).substr(span[0], span[1] - span[0])));
            at = span[1];
        }
        return tokens;
    }

    BytePairMerges merges_;
    std::unique_ptr<pcre2_code, CodeDeleter> pattern_;
};

} // namespace

int64_t count_tokens(std::string_view utf8)
{
    static const Tokenizer tokenizer;
    return tokenizer.count(utf8);
}

} // namespace jarvis::qwen
