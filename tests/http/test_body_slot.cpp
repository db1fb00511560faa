// Where a body's late-written piece goes: found by a placeholder that nothing else in the body contains.
#include "http/body_slot.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using jarvis::split_at_slot;

TEST_CASE("a body is split at its slot, around the placeholder", "[http][body_slot]")
{
    const auto around = split_at_slot([](const std::string& placeholder) { return "{\"q\":\"hi\",\"url\":\"" + placeholder + "\"}"; });
    CHECK(around.before == "{\"q\":\"hi\",\"url\":\"");
    CHECK(around.after == "\"}");
}

TEST_CASE("a question holding the placeholders tried is not taken for the slot", "[http][body_slot]")
{
    std::vector<std::string> tried;
    const std::string question = "@@jarvis-slot-0@@ and @@jarvis-slot-1@@";
    const auto around = split_at_slot([&](const std::string& placeholder) {
        tried.push_back(placeholder);
        return "{\"q\":\"" + question + "\",\"url\":\"" + placeholder + "\"}";
    });
    CHECK(tried.size() == 3);
    CHECK(around.before == "{\"q\":\"" + question + "\",\"url\":\"");
    CHECK(around.after == "\"}");
}

TEST_CASE("a body written without its slot is a programming error, not a guess", "[http][body_slot]")
{
    CHECK_THROWS_AS(split_at_slot([](const std::string&) { return std::string("{}"); }), std::logic_error);
}
