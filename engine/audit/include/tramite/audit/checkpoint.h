// Signed checkpoints: a tree size and root, signed with Ed25519 (OpenSSL EVP), and the keys
// that make and check them. OpenSSL is confined to this module.
// Thread safety: Signer and CheckpointVerifier are immutable once made; share them freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tramite/audit/merkle.h"
#include "tramite/clock.h"

struct evp_pkey_st;

namespace tramite::audit {

struct Checkpoint {
  std::uint64_t size = 0;
  Hash root{};
  TimePoint signed_at = 0;
  std::string key_id;     // keyId() of the signing key
  std::string signature;  // Ed25519 signature of its signed text (signedText()), hex
  // The SHA-256 (hex) of the signed text of the checkpoint before it: each checkpoint vouches
  // for its predecessor, so one removed or replaced from the middle breaks the chain. Empty
  // for the first checkpoint and for those signed before checkpoints were chained (v1).
  std::string previous;
  // An RFC 3161 timestamp token (DER) over the signed text, from the TSA configured when the
  // checkpoint was made; empty when none was (or the TSA did not answer). Not signed: the
  // token is the TSA's own signature.
  std::string timestamp;
};

// The signed bytes (FORMAT.md): "tramite ledger checkpoint v1\n" then the size, the root in
// hex and signed_at (Unix milliseconds), each in decimal or hex on its own line ending "\n".
std::string checkpointText(std::uint64_t size, const Hash& root, TimePoint signed_at);
// The bytes a checkpoint's signature covers: checkpointText() for an unchained one (v1),
// else "tramite ledger checkpoint v2\n" then size, root, signed_at and previous, a line each.
std::string signedText(const Checkpoint& checkpoint);

// An Ed25519 private key.
class Signer {
 public:
  // Errors: kInvalidArgument when the PEM text is not an Ed25519 private key.
  static Result<Signer> fromPem(const std::string& pem);
  // A new random key, as PEM (PKCS#8) text. Errors: kInternal when OpenSSL fails.
  static Result<std::string> generatePem();

  // The first 16 hex digits of SHA-256 of the raw 32-byte public key.
  const std::string& keyId() const { return key_id_; }
  // The SHA-256 of the raw public key in hex: what a verifier compares out of band.
  const std::string& fingerprint() const { return fingerprint_; }
  // The public key as PEM (SubjectPublicKeyInfo) text, for verifiers.
  std::string publicKeyPem() const;
  // Signs the checkpoint of size and root at signed_at, chained to previous (the SHA-256 of
  // the signed text of the checkpoint before it, or empty). Errors: kInternal when OpenSSL
  // fails.
  Result<Checkpoint> sign(std::uint64_t size, const Hash& root, TimePoint signed_at,
                          const std::string& previous = {}) const;

 private:
  std::shared_ptr<evp_pkey_st> key_;
  std::string key_id_;
  std::string fingerprint_;
};

// Checks checkpoint signatures with an Ed25519 public key.
class CheckpointVerifier {
 public:
  // Takes a public key PEM, or a private key PEM (its public half is used).
  // Errors: kInvalidArgument when the text holds no Ed25519 key.
  static Result<CheckpointVerifier> fromPem(const std::string& pem);

  const std::string& keyId() const { return key_id_; }
  // True when the checkpoint names this key and its signature is good.
  bool verify(const Checkpoint& checkpoint) const;

 private:
  std::shared_ptr<evp_pkey_st> key_;
  std::string key_id_;
};

}  // namespace tramite::audit
