#pragma once

#include "media/downloaded_copy.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <memory>
#include <string>

namespace jarvis {

// Downloads `url` whole into a temporary file, reporting the fraction done when the size is known. Where the copy
// cannot be written (no temporary folder, not enough room, a failed write) it returns nothing and `why_not` says why,
// so that the caller reads the URL itself. Throws MediaCancelled when `interrupted` says so, MediaError naming the URL
// when the download fails.
std::shared_ptr<const DownloadedCopy> download_copy(const std::string& url, const MediaSource::InterruptCheck& interrupted,
                                                   const ScanProgress& progress, double io_timeout_s, std::string& why_not);

} // namespace jarvis
