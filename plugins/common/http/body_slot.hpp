#pragma once

#include <functional>
#include <string>

namespace jarvis {

// A request body written in three pieces: the text before a slot, what fills the slot later (frames, sent as they are
// decoded), and the text after it.
struct BodyAroundSlot
{
    std::string before;
    std::string after;
};

// `write_with(placeholder)` serialises the body with `placeholder` where the slot is. The slot is found by searching
// for it, and a user's question may hold any text: a placeholder that also occurs elsewhere in the body is replaced by
// another until one occurs only once.
BodyAroundSlot split_at_slot(const std::function<std::string(const std::string& placeholder)>& write_with);

} // namespace jarvis
