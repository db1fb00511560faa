#pragma once

#include "config/provider_config.hpp"
#include "http/chat_client.hpp"
#include "http/streamed_body.hpp"

#include <jarvis/plugin_adapter.hpp>

#include <functional>

namespace jarvis {

struct WrittenAnswer
{
    ChatAnswer answer;
    double body_whole_s = 0; // from the start of sending until the body was whole
};

// Sends a chat request while `write` produces its body, so that the request is complete soon after the last piece is
// written (frames still being decoded go out as each is encoded). `write` runs on a thread of its own and appends to the
// body; the Call it gets records progress and sees cancellation, which the calling thread relays to and from the host
// (the host's callbacks stay on the calling thread). When `write` returns the body is whole; when it throws, the
// request is aborted before its end (the server never takes a short body for a whole one) and its exception is what
// this throws. Whatever ends the request, writing is stopped and its thread joined before this returns; except that a
// refusal with 411 (Length Required, for a caller to send the body again whole) lets writing finish first.
WrittenAnswer send_while_writing(const EndpointConfig& endpoint, bool stream, const plugin::Call& call,
                                 const std::function<void(StreamedBody& body, const plugin::Call& writer_call)>& write);

} // namespace jarvis
