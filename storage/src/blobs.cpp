#include "tramite/storage/blobs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "file_io.h"
#include "tramite/audit/merkle.h"

namespace tramite::storage {

namespace {

bool isDigest(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Writes all of bytes to fd.
bool writeAll(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

class FilesystemBlobs final : public BlobStore {
 public:
  explicit FilesystemBlobs(std::string dir) : dir_(std::move(dir)) {}

  Status put(Transaction&, const std::string& sha256, const std::string& bytes) override {
    if (!isDigest(sha256)) return Status(ErrorCode::kInternal, "not a blob name: " + sha256);
    const std::string shard = dir_ + "/" + sha256.substr(0, 2);
    const std::string path = shard + "/" + sha256.substr(2);
    if (::access(path.c_str(), F_OK) == 0) return Status::ok();  // content-addressed: same bytes
    std::error_code ec;
    std::filesystem::create_directories(shard, ec);
    if (ec) return Status(ErrorCode::kUnavailable, "cannot create " + shard + ": " + ec.message());
    std::string tmp = shard + "/.tmp-XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) return ioError("create a file in", shard);
    const bool written = writeAll(fd, bytes) && ::fchmod(fd, 0440) == 0 && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
      Status st = ioError("write", path);
      ::unlink(tmp.c_str());
      return st;
    }
    if (!fsyncPath(shard, O_RDONLY | O_DIRECTORY)) return ioError("sync", shard);
    return Status::ok();
  }

  Result<std::optional<std::string>> get(Transaction&, const std::string& sha256) override {
    if (!isDigest(sha256)) return std::optional<std::string>();
    const std::string path = dir_ + "/" + sha256.substr(0, 2) + "/" + sha256.substr(2);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::optional<std::string>();
      return ioError("read", path);
    }
    std::string bytes;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) bytes.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (n < 0) return ioError("read", path);
    if (audit::sha256Hex(bytes) != sha256) {
      return Status(ErrorCode::kInternal, "blob " + path + " does not hash to its name");
    }
    return std::optional<std::string>(std::move(bytes));
  }

  const char* kind() const override { return "filesystem"; }

 private:
  std::string dir_;
};

class DatabaseBlobs final : public BlobStore {
 public:
  Status put(Transaction& tx, const std::string& sha256, const std::string& bytes) override {
    return tx.putBlob(sha256, bytes);
  }
  Result<std::optional<std::string>> get(Transaction& tx, const std::string& sha256) override {
    auto bytes = tx.blob(sha256);
    if (!bytes || !bytes->has_value()) return bytes;
    if (audit::sha256Hex(**bytes) != sha256) {
      return Status(ErrorCode::kInternal, "blob " + sha256 + " does not hash to its name");
    }
    return bytes;
  }
  const char* kind() const override { return "database"; }
};

}  // namespace

std::unique_ptr<BlobStore> filesystemBlobStore(std::string dir) {
  return std::make_unique<FilesystemBlobs>(std::move(dir));
}

std::unique_ptr<BlobStore> databaseBlobStore() {
  return std::make_unique<DatabaseBlobs>();
}

}  // namespace tramite::storage
