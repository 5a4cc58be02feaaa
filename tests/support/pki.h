// A throwaway PKI for signature tests, made by tests/support/make-pki.sh with the stock
// openssl tool (see that script for the files).
// TRAMITE_SOURCE_DIR is defined by each test target.
#pragma once

#include <stdexcept>
#include <string>

#include "files.h"

namespace tramite::testing {

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
