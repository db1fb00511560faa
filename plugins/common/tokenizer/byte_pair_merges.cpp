#include "tokenizer/byte_pair_merges.hpp"

#include <array>
#include <limits>
#include <stdexcept>
#include <string>

namespace jarvis::qwen {
namespace {

// GPT-2's bytes_to_unicode, inverted: the printable Latin-1 bytes stand for themselves, the other 68 bytes for the
// code points 256.. in byte order.
std::array<int, 324> character_to_byte()
{
    std::array<int, 324> table{};
    table.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        table[static_cast<size_t>(printable ? b : 256 + extra++)] = b;
    }
    return table;
}

// A merge's side, from the byte-level characters of the merges file back to the raw bytes they stand for.
std::string raw_bytes(std::string_view mapped)
{
    static const std::array<int, 324> to_byte = character_to_byte();
    std::string out;
    for (size_t i = 0; i < mapped.size();) {
        const auto c = static_cast<unsigned char>(mapped[i]);
        uint32_t code = c;
        if (c >= 0xC0 && i + 1 < mapped.size()) { // only one- and two-byte UTF-8 (code points < 324) occur
            code = (c & 0x1Fu) << 6 | (static_cast<unsigned char>(mapped[i + 1]) & 0x3Fu);
            i += 2;
        } else {
            ++i;
        }
        if (code >= to_byte.size() || to_byte[code] < 0)
            throw std::runtime_error("qwen3 merges: a character outside the byte-level alphabet");
        out += static_cast<char>(to_byte[code]);
    }
    return out;
}

} // namespace

BytePairMerges::BytePairMerges(std::string_view text)
{
    std::unordered_map<std::string, uint32_t> tokens;
    tokens.reserve(160000);
    for (uint32_t b = 0; b < 256; ++b)
        tokens.emplace(std::string(1, static_cast<char>(b)), b);
    merges_.reserve(160000);
    uint32_t rank = 0;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        const size_t space = line.find(' ');
        if (line.empty() || space == std::string_view::npos)
            continue;
        const std::string left = raw_bytes(line.substr(0, space));
        const std::string right = raw_bytes(line.substr(space + 1));
        const auto l = tokens.find(left), r = tokens.find(right);
        if (l == tokens.end() || r == tokens.end())
            throw std::runtime_error("qwen3 merges: a merge of a token no earlier merge made");
        const uint32_t made = tokens.emplace(left + right, static_cast<uint32_t>(tokens.size())).first->second;
        merges_.emplace(key(l->second, r->second), Merge{rank++, made});
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
