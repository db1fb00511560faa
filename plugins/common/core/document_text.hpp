#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace jarvis {

// A result document as the text handed to the host. Some of its strings come from outside (a server's or a proxy's
// error page, quoted in a refusal or a fallback's reason) and may hold bytes that are not UTF-8, which JSON cannot
// carry: they become U+FFFD, instead of failing a call whose answer is already here.
inline std::string document_text(const nlohmann::json& doc)
{
    return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace jarvis
