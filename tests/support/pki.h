// A throwaway PKI for signature tests, made by tests/support/make-pki.sh with the stock
// openssl tool (see that script for the files), and small file/command helpers.
// TRAMITE_SOURCE_DIR is defined by each test target.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tramite::testing {

inline std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Runs a shell command; its exit status.
inline int shell(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A fresh temporary directory, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/tramite-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The PKI of make-pki.sh in a temporary directory.
class Pki : public TempDir {
 public:
  Pki() {
    if (shell("sh " TRAMITE_SOURCE_DIR "/tests/support/make-pki.sh " + path() + " >/dev/null") !=
        0) {
      throw std::runtime_error("make-pki.sh failed");
    }
  }
  std::string pem(const std::string& name) const { return readBytes(file(name + ".pem")); }
  std::string key(const std::string& name) const { return readBytes(file(name + ".key")); }
  // A detached DER signature by `who` over the file at content_path, made by openssl cms.
  std::string opensslSign(const std::string& who, const std::string& content_path) const {
    const std::string out = file(who + "-" + std::to_string(++signed_) + ".p7s");
    const std::string cmd = "openssl cms -sign -binary -md sha256 -outform DER -in " +
                            content_path + " -signer " + file(who + ".pem") + " -inkey " +
                            file(who + ".key") + " -out " + out;
    if (shell(cmd) != 0) throw std::runtime_error("openssl cms -sign failed: " + cmd);
    return readBytes(out);
  }

 private:
  mutable int signed_ = 0;
};

}  // namespace tramite::testing
