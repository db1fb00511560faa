#include "core/vision_request.hpp"

#include "config/config_error.hpp"

#include <nlohmann/json.hpp>

namespace jarvis {

VisionRequest parse_vision_request(std::string_view json_text)
{
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::exception& e) { // parse_error, and out_of_range for a number too large to hold
        throw ConfigError(std::string("request: not valid JSON: ") + e.what());
    }
    if (!doc.is_object())
        throw ConfigError("request: must be a JSON object");

    VisionRequest r;
    for (const auto& [key, value] : doc.items()) {
        if (key == "video" || key == "prompt" || key == "loadout") {
            if (!value.is_string())
                throw ConfigError("request: " + key + " must be a string");
        } else if (key == "stream") {
            if (!value.is_boolean())
                throw ConfigError("request: stream must be true or false");
        } else if (key == "conversation") {
            if (!value.is_object())
                throw ConfigError("request: conversation must be the object a previous ask result carried");
        } else {
            r.warnings.push_back("request: unknown member '" + key +
                                 "' is ignored (known: video, prompt, loadout, stream, conversation)");
        }
    }
    r.video = doc.value("video", "");
    r.prompt = doc.value("prompt", "");
    if (doc.contains("loadout"))
        r.loadout = doc.at("loadout").get<std::string>();
    if (doc.contains("stream"))
        r.stream = doc.at("stream").get<bool>();
    if (doc.contains("conversation"))
        r.conversation = doc.at("conversation");
    // FFmpeg and the operating system take the path as a C string: it would end at the NUL, naming another file.
    if (r.video.find('\0') != std::string::npos)
        throw ConfigError("request: video must not contain a NUL character");
    if (r.video.empty() && r.conversation.is_null())
        throw ConfigError("request: video is required (a local path or an http(s) URL)");
    if (r.prompt.empty())
        throw ConfigError("request: prompt is required");
    return r;
}

} // namespace jarvis
