// Reading whole files, for the configuration, documents and keys the project loads.
#pragma once

#include <string>

#include "tramite/status.h"

namespace tramite {

// The bytes of the file at path. Errors: kNotFound, "cannot read <what> <path>" (what names
// the kind of file for the message, e.g. "calendar file"; it may be empty).
Result<std::string> readFile(const std::string& path, const std::string& what = {});

}  // namespace tramite
