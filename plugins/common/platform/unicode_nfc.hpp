#pragma once

#include <string>
#include <string_view>

namespace jarvis {

// The text in Unicode Normalization Form C (what Qwen's tokenizer does first). Invalid UTF-8 comes back unchanged.
std::string to_nfc(std::string_view utf8);

} // namespace jarvis
