#include "tramite/file.h"

#include <fstream>
#include <sstream>

namespace tramite {

Result<std::string> readFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  if (in) out << in.rdbuf();
  if (!in) {
    return Status(ErrorCode::kNotFound,
                  "cannot read " + (what.empty() ? std::string() : what + " ") + path);
  }
  return out.str();
}

}  // namespace tramite
