// File helpers shared by the storage module's own files (blobs, the WAL sync). Not a public
// header.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "tramite/status.h"

namespace tramite::storage {

// kUnavailable "cannot WHAT PATH: <errno text>", for the call that just failed.
inline Status ioError(const std::string& what, const std::string& path) {
  return Status(ErrorCode::kUnavailable,
                "cannot " + what + " " + path + ": " + std::strerror(errno));
}

// fsyncs the file or directory at path, opened with flags (O_RDONLY | O_DIRECTORY for a
// directory, so that the entries made in it survive a power loss). False with errno set
// when it cannot.
inline bool fsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  errno = error;
  return ok;
}

}  // namespace tramite::storage
