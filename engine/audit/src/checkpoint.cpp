#include "tramite/audit/checkpoint.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace tramite::audit {

namespace {

using KeyPtr = std::shared_ptr<EVP_PKEY>;

KeyPtr own(EVP_PKEY* key) {
  return KeyPtr(key, EVP_PKEY_free);
}

// Reads a PEM key with the given reader; nullptr when the text holds none.
template <typename Reader>
KeyPtr readPem(const std::string& pem, Reader reader) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return nullptr;
  return own(reader(bio.get(), nullptr, nullptr, nullptr));
}

// The SHA-256 of an Ed25519 key's 32 raw public bytes, in hex (its fingerprint; the first 16
// digits are its key id); kInvalidArgument with `refusal` when key is null or not Ed25519.
Result<std::string> ed25519Fingerprint(EVP_PKEY* key, const char* refusal) {
  unsigned char raw[32];
  std::size_t len = sizeof raw;
  if (!key || EVP_PKEY_id(key) != EVP_PKEY_ED25519 ||
      EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof raw) {
    return Status(ErrorCode::kInvalidArgument, refusal);
  }
  return toHex(sha256(std::string_view(reinterpret_cast<const char*>(raw), len)));
}

// A key as PEM text, written by `write` into memory; "" when OpenSSL fails.
template <typename Write>
std::string pemOf(EVP_PKEY* key, Write write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || write(bio.get(), key) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

std::string checkpointText(std::uint64_t size, const Hash& root, TimePoint signed_at) {
  return "tramite ledger checkpoint v1\n" + std::to_string(size) + "\n" + toHex(root) + "\n" +
         std::to_string(signed_at) + "\n";
}

std::string signedText(const Checkpoint& c) {
  if (c.previous.empty()) return checkpointText(c.size, c.root, c.signed_at);
  return "tramite ledger checkpoint v2\n" + std::to_string(c.size) + "\n" + toHex(c.root) + "\n" +
         std::to_string(c.signed_at) + "\n" + c.previous + "\n";
}

Result<Signer> Signer::fromPem(const std::string& pem) {
  KeyPtr key = readPem(pem, PEM_read_bio_PrivateKey);
  auto id = ed25519Fingerprint(key.get(), "the signing key is not an Ed25519 private key");
  if (!id) return id.status();
  Signer s;
  s.key_ = std::move(key);
  s.fingerprint_ = *id;
  s.key_id_ = id->substr(0, 16);
  return s;
}

Result<std::string> Signer::generatePem() {
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return Status(ErrorCode::kInternal, "OpenSSL could not make an Ed25519 key");
  }
  KeyPtr key = own(raw);
  std::string pem = pemOf(key.get(), [](BIO* bio, EVP_PKEY* k) {
    return PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (pem.empty()) return Status(ErrorCode::kInternal, "OpenSSL could not write the key");
  return pem;
}

std::string Signer::publicKeyPem() const {
  return pemOf(key_.get(), PEM_write_bio_PUBKEY);
}

Result<Checkpoint> Signer::sign(std::uint64_t size, const Hash& root, TimePoint signed_at,
                                const std::string& previous) const {
  Checkpoint c;
  c.size = size;
  c.root = root;
  c.signed_at = signed_at;
  c.previous = previous;
  const std::string text = signedText(c);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  std::size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) != 1) {
    return Status(ErrorCode::kInternal, "OpenSSL could not sign the checkpoint");
  }
  c.key_id = key_id_;
  c.signature = toHex(std::string_view(reinterpret_cast<const char*>(sig), len));
  return c;
}

Result<CheckpointVerifier> CheckpointVerifier::fromPem(const std::string& pem) {
  KeyPtr key = readPem(pem, PEM_read_bio_PUBKEY);
  if (!key) key = readPem(pem, PEM_read_bio_PrivateKey);
  auto id = ed25519Fingerprint(key.get(), "the checkpoint key is not an Ed25519 key");
  if (!id) return id.status();
  CheckpointVerifier v;
  v.key_ = std::move(key);
  v.key_id_ = id->substr(0, 16);
  return v;
}

bool CheckpointVerifier::verify(const Checkpoint& checkpoint) const {
  auto sig = bytesFromHex(checkpoint.signature);
  if (checkpoint.key_id != key_id_ || !sig) return false;
  const std::string text = signedText(checkpoint);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                          sig->size(), reinterpret_cast<const unsigned char*>(text.data()),
                          text.size()) == 1;
}

}  // namespace tramite::audit
