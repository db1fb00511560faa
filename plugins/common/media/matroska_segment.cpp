#include "media/matroska_segment.hpp"

namespace jarvis::matroska {
namespace {

constexpr uint64_t ebml_header_id = 0x1A45DFA3;
constexpr uint64_t segment_id = 0x18538067;
constexpr uint64_t void_id = 0xEC;

// An EBML variable-length integer at `pos`: its length is told by the first byte's leading zeros. An element ID keeps
// its length marker; a size drops it, and a size of all ones means unknown.
struct Vint
{
    uint64_t value = 0;
    size_t length = 0;
    bool unknown = false;
};

std::optional<Vint> read_vint(const uint8_t* data, size_t size, size_t pos, bool keep_marker)
{
    if (pos >= size || data[pos] == 0)
        return std::nullopt;
    size_t length = 1;
    while (!(data[pos] & (0x80 >> (length - 1))))
        ++length;
    if (pos + length > size)
        return std::nullopt;
    Vint v;
    v.length = length;
    const uint8_t marker = uint8_t(0x80 >> (length - 1));
    v.value = keep_marker ? data[pos] : data[pos] & uint8_t(marker - 1);
    bool all_ones = (data[pos] & uint8_t(marker - 1)) == uint8_t(marker - 1);
    for (size_t i = 1; i < length; ++i) {
        v.value = v.value << 8 | data[pos + i];
        all_ones = all_ones && data[pos + i] == 0xFF;
    }
    v.unknown = !keep_marker && all_ones;
    return v;
}

} // namespace

std::optional<SegmentExtent> segment_extent(const uint8_t* data, size_t size)
{
    size_t pos = 0;
    bool first = true;
    // The EBML header first, then (past any Void padding) the Segment.
    while (pos < size) {
        const auto id = read_vint(data, size, pos, true);
        if (!id || id->length > 4)
            return std::nullopt;
        const auto length = read_vint(data, size, pos + id->length, false);
        if (!length)
            return std::nullopt;
        const uint64_t body = pos + id->length + length->length;
        if (first && id->value != ebml_header_id)
            return std::nullopt;
        first = false;
        if (id->value == segment_id) {
            if (length->unknown || length->value > UINT64_MAX - body)
                return std::nullopt;
            return SegmentExtent{body, body + length->value};
        }
        if ((id->value != ebml_header_id && id->value != void_id) || length->unknown || body > size || length->value > size - body)
            return std::nullopt;
        pos = static_cast<size_t>(body + length->value);
    }
    return std::nullopt;
}

} // namespace jarvis::matroska
