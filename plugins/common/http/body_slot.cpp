#include "http/body_slot.hpp"

#include <stdexcept>

namespace jarvis {

BodyAroundSlot split_at_slot(const std::function<std::string(const std::string& placeholder)>& write_with)
{
    // Each placeholder the body already holds costs one more try: a body cannot hold more of them than it has bytes.
    for (unsigned long attempt = 0;; ++attempt) {
        const std::string placeholder = "@@jarvis-slot-" + std::to_string(attempt) + "@@";
        const std::string text = write_with(placeholder);
        const size_t at = text.find(placeholder);
        if (at == std::string::npos)
            throw std::logic_error("split_at_slot: the body was written without its slot");
        if (text.find(placeholder, at + 1) == std::string::npos)
            return {text.substr(0, at), text.substr(at + placeholder.size())};
    }
}

} // namespace jarvis
