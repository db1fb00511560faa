#include "tokenizer/byte_pair_merges.hpp"

#include <functional>
#include <limits>
#include <queue>
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
    // Most pieces are words, a few bytes long: there the scan is faster than a queue. A piece has no bound (a pasted
    // hash, a run of one letter), and the scan is quadratic in its length.
    return piece.size() <= 64 ? count_by_scan(piece) : count_by_queue(piece);
}

// The lowest-ranked adjacent pair is merged first, the leftmost of equals (as Hugging Face's BPE does), until no pair
// is a merge.
size_t BytePairMerges::count_by_scan(std::string_view piece) const
{
    std::vector<uint32_t> symbols(piece.begin(), piece.end());
    for (auto& s : symbols)
        s &= 0xFFu; // chars may be signed
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

// The same merges in the same order, in O(n log n): the symbols are a linked list, each adjacent pair that is a merge
// waits in a queue ordered by rank, then position. An entry whose pair has since changed (either side merged into
// another) is skipped when it comes up.
size_t BytePairMerges::count_by_queue(std::string_view piece) const
{
    constexpr size_t none = std::numeric_limits<size_t>::max();
    struct Symbol
    {
        uint32_t token;
        size_t prev;
        size_t next;
        bool merged_away;
    };
    struct Candidate
    {
        uint32_t rank;
        size_t at; // the left symbol: positions keep the symbols' order
        bool operator>(const Candidate& other) const { return rank != other.rank ? rank > other.rank : at > other.at; }
    };
    std::vector<Symbol> symbols(piece.size());
    for (size_t i = 0; i < piece.size(); ++i)
        symbols[i] = {static_cast<unsigned char>(piece[i]), i == 0 ? none : i - 1, i + 1 < piece.size() ? i + 1 : none, false};
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto consider = [&](size_t left) {
        if (left == none || symbols[left].next == none)
            return;
        const auto found = merges_.find(key(symbols[left].token, symbols[symbols[left].next].token));
        if (found != merges_.end())
            queue.push({found->second.rank, left});
    };
    for (size_t i = 0; i + 1 < piece.size(); ++i)
        consider(i);
    size_t count = piece.size();
    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol& left = symbols[top.at];
        if (left.merged_away || left.next == none)
            continue;
        const auto found = merges_.find(key(left.token, symbols[left.next].token));
        if (found == merges_.end() || found->second.rank != top.rank) // a rank names one pair: this one is gone
            continue;
        Symbol& right = symbols[left.next];
        right.merged_away = true;
        left.token = found->second.token;
        left.next = right.next;
        if (right.next != none)
            symbols[right.next].prev = top.at;
        --count;
        consider(left.prev);
        consider(top.at);
    }
    return count;
}

} // namespace jarvis::qwen
