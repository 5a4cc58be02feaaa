// SCXML document loading: hardened libxml2 parsing, compilation into a Chart, and
// validation that reports every problem found with its line.
// Thread safety: the functions are reentrant; they may be called from several threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tramite/scxml/chart.h"
#include "tramite/scxml/vocabulary.h"

namespace tramite::scxml {

inline constexpr std::string_view kScxmlNamespace = "http://www.w3.org/2005/07/scxml";

struct Diagnostic {
  std::string file;
  int line = 0;
  std::string message;
  // "file:line: message"
  std::string toString() const;
};

struct ParseOptions {
  std::size_t max_bytes = 4 * 1024 * 1024;  // larger documents are refused unread
  std::size_t max_depth = 64;               // element nesting
  std::size_t max_elements = 100000;
  // Read local files named by <script src> and <data src>. When false (documents from
  // outside, e.g. deployed through the API), any such reference is a validation error.
  bool load_src = true;
  // The vocabularies of other namespaces to validate (not owned; they must outlive the
  // call). Elements of other namespaces are kept unchecked.
  std::vector<const Vocabulary*> vocabularies;
};

struct ParseResult {
  ChartPtr chart;                  // null when errors is not empty
  std::vector<Diagnostic> errors;  // every problem, in document order
  bool ok() const { return chart != nullptr; }
  // All errors as "file:line: message" lines.
  std::string errorText() const;
};

// Parses and validates a document held in memory. source_name is used in messages;
// base_dir is where relative src references (file:x, x) resolve. Never touches the network,
// never loads DTDs, never expands entities: a document with a DOCTYPE is refused.
ParseResult parseString(std::string_view xml, std::string source_name, std::string base_dir,
                        const ParseOptions& options = {});

// Reads and parses a file; relative references resolve against its directory.
ParseResult parseFile(const std::string& path, const ParseOptions& options = {});

// Reads a local file named by an SCXML src reference ("file:name", "file:///abs", or a plain
// path) relative to base_dir. Refuses other URI schemes. Returns false with *error set.
bool readLocalReference(std::string_view ref, const std::string& base_dir, std::string* out,
                        std::string* error);

}  // namespace tramite::scxml
