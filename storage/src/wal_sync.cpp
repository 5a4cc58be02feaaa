#include "wal_sync.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "file_io.h"

namespace tramite::storage {

WalSync::WalSync(std::string wal_path, std::function<int(int)> sync)
    : wal_path_(std::move(wal_path)),
      sync_(sync ? std::move(sync) : [](int fd) { return ::fdatasync(fd); }) {}

WalSync::~WalSync() {
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t WalSync::begin() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++begun_;
}

Status WalSync::openOnce() {
  if (fd_ >= 0) return Status::ok();
  // Read-only is enough: Linux syncs a file's data through any descriptor of it.
  const int fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ioError("open", wal_path_);
  // SQLite may just have created the WAL: its directory entry must survive a power loss too.
  std::string dir = std::filesystem::path(wal_path_).parent_path().string();
  if (dir.empty()) dir = ".";
  if (!fsyncPath(dir, O_RDONLY | O_DIRECTORY)) {
    Status st = ioError("sync directory", dir);
    ::close(fd);
    return st;
  }
  fd_ = fd;
  return Status::ok();
}

Status WalSync::sync(std::uint64_t n) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failure_.empty()) {
      if (Status st = openOnce(); !st) failure_ = st.message();
    }
    if (!failure_.empty()) {
      durable_cv_.notify_all();
      return Status(ErrorCode::kUnavailable, failure_);
    }
    fd = fd_;
  }
  // Outside the lock: the next commit numbers itself and commits meanwhile.
  const bool synced = sync_(fd) == 0;
  std::string error = synced ? "" : std::strerror(errno);
  // SQLite removes the WAL only when its last connection closes, and the store keeps its
  // writer's open; should that ever change, syncing a removed file must not pass silently.
  struct stat st {};
  if (synced && (::fstat(fd, &st) != 0 || st.st_nlink == 0)) error = "removed while open";
  std::lock_guard<std::mutex> lock(mu_);
  if (!error.empty() && failure_.empty()) {
    failure_ = "the write-ahead log " + wal_path_ + " could not be synced (" + error +
               "); commits since the last sync may be lost: restart the server";
  }
  if (!failure_.empty()) {
    durable_cv_.notify_all();
    return Status(ErrorCode::kUnavailable, failure_);
  }
  if (n > durable_) {
    durable_ = n;
    durable_cv_.notify_all();
  }
  return Status::ok();
}

Status WalSync::awaitDurable() {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t target = begun_;
  durable_cv_.wait(lock, [&] { return durable_ >= target || !failure_.empty(); });
  if (!failure_.empty()) return Status(ErrorCode::kUnavailable, failure_);
  return Status::ok();
}

}  // namespace tramite::storage
