// libFuzzer target: arbitrary bytes into the SCXML parser and validator. Any crash, leak,
// hang or sanitizer report is a bug; every input must end in a chart or a list of errors.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tramite/scxml/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tramite::scxml::ParseOptions options;
  options.max_bytes = 256 * 1024;
  options.load_src = false;  // never read files named by the input
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tramite::scxml::ParseResult r =
      tramite::scxml::parseString(text, "fuzz.scxml", "/nonexistent", options);
  if (!r.ok() && r.errors.empty()) __builtin_trap();  // a failure must say why
  return 0;
}
