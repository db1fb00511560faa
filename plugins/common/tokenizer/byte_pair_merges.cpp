#include "tokenizer/byte_pair_merges.hpp"

#include <limits>
#include <stdexcept>

namespace jarvis::qwen {
namespace {

// The number at `at` and the position after it; throws on anything but digits there.
uint32_t read_number(std::string_view text, size_t& at)
{
    uint64_t value = 0;
    const size_t start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9' && value <= std::numeric_limits<uint32_t>::max())
        value = value * 10 + static_cast<uint64_t>(text[at++] - '0');
    if (at == start || value > std::numeric_limits<uint32_t>::max())
        throw std::runtime_error("qwen3 merges: a line is not two token numbers");
    return static_cast<uint32_t>(value);
}

} // namespace

BytePairMerges::BytePairMerges(std::string_view text)
{
    merges_.reserve(160000);
    uint32_t rank = 0;
    for (size_t at = 0; at < text.size();) {
        if (text[at] == '\n') {
            ++at;
            continue;
        }
        const uint32_t left = read_number(text, at);
        if (at >= text.size() || text[at++] != ' ')
            throw std::runtime_error("qwen3 merges: a line is not two token numbers");
        const uint32_t right = read_number(text, at);
        const uint32_t made = 256 + rank;
        if (left >= made || right >= made)
            throw std::runtime_error("qwen3 merges: a merge of a token no earlier merge made");
        merges_.emplace(key(left, right), Merge{rank++, made});
    }
}

size_t BytePairMerges::count(std::string_view piece) const
{
    std::vector<uint32_t> symbols(piece.begin(), piece.end());
    for (auto& s : symbols)
        s &= 0xFFu; // chars may be signed
    // The lowest-ranked adjacent pair is merged first, the leftmost of equals (as Hugging Face's BPE does), until no
    // pair is a merge. Pieces are words, a few bytes long: the quadratic scan is faster than a queue there.
    while (symbols.size() > 1) {
        uint32_t best_rank = std::numeric_limits<uint32_t>::max();
        size_t best_at = 0;
        uint32_t best_token = 0;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto found = merges_.find(key(symbols[i], symbols[i + 1]));
            if (found != merges_.end() && found->second.rank < best_rank) {
                best_rank = found->second.rank;
                best_at = i;
                best_token = found->second.token;
            }
        }
        if (best_rank == std::numeric_limits<uint32_t>::max())
            break;
        symbols[best_at] = best_token;
        symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
    }
    return symbols.size();
}

} // namespace jarvis::qwen
