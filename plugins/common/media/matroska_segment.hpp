#pragma once

// Just enough of Matroska's EBML layout (RFC 8794, RFC 9559) to tell where a file's Segment should end: a file cut
// short keeps the Segment's size in its first bytes while its cues, written last, are gone with the end.

#include <cstddef>
#include <cstdint>
#include <optional>

namespace jarvis::matroska {

// Where the first Segment's content begins and ends, in bytes from the file's start.
struct SegmentExtent
{
    uint64_t begin = 0;
    uint64_t end = 0;
};

// The first Segment's extent, from the file's first bytes (an EBML header, then the Segment; a few dozen bytes are
// enough). Nothing when the bytes are not Matroska, are too few, or the Segment's size is unknown (a live recording,
// or one whose writer stopped before it could go back and write it).
std::optional<SegmentExtent> segment_extent(const uint8_t* data, size_t size);

} // namespace jarvis::matroska
