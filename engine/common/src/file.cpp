#include "tramite/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
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

Status writeNewPrivateFile(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status(ErrorCode::kConflict, path + " exists already");
    return Status(ErrorCode::kUnavailable, "cannot create " + path);
  }
  const bool written =
      ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed) {
    ::unlink(path.c_str());
    return Status(ErrorCode::kUnavailable, "cannot write " + path);
  }
  return Status::ok();
}

}  // namespace tramite
