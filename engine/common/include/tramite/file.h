// Reading whole files, for the configuration, documents and keys the project loads.
#pragma once

#include <string>

#include "tramite/status.h"

namespace tramite {

// The bytes of the file at path. Errors: kNotFound, "cannot read <what> <path>" (what names
// the kind of file for the message, e.g. "calendar file"; it may be empty).
Result<std::string> readFile(const std::string& path, const std::string& what = {});

// Creates the file at path holding bytes, readable and writable by the owner only (mode
// 0600 from the start), and never over an existing file: for keys and secrets.
// Errors: kConflict when the file exists, kUnavailable when it cannot be written.
Status writeNewPrivateFile(const std::string& path, const std::string& bytes);

// Reads the file at path and hands its text to parse (text -> Result<T>); a parse error is
// reported as "<path>: <message>" with its code.
template <typename Parse>
auto parseFile(const std::string& path, const std::string& what, Parse parse)
    -> decltype(parse(std::string())) {
  auto text = readFile(path, what);
  if (!text) return text.status();
  auto parsed = parse(*text);
  if (!parsed) return Status(parsed.status().code(), path + ": " + parsed.status().message());
  return parsed;
}

}  // namespace tramite
