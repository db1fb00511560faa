#pragma once

#include <filesystem>
#include <vector>

namespace jarvis::test {

// Writes a HEIF photo the way phones store one: its primary item is a 2x2 grid of HEVC tiles, cropped by 8 pixels
// at the right and bottom, the tiles hidden items of their own. The tiles are taken from four single-picture HEIFs
// of `tile_width` x `tile_height` that heif-enc wrote (their decoder configuration and coded picture).
void make_heif_grid(const std::filesystem::path& out, const std::vector<std::filesystem::path>& tiles, int tile_width, int tile_height);

} // namespace jarvis::test
