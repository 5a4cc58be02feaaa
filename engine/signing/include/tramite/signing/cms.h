// CMS (PKCS#7) detached signatures over document bytes, in DER (.p7s): checking a signature
// made elsewhere against the institution's trust store, making one with the institutional
// seal, and RFC 3161 timestamps on a signature. OpenSSL is confined to this library.
//
// Thread safety: TrustStore and Sealer are immutable after construction and may be shared by
// any number of threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tramite/clock.h"
#include "tramite/status.h"

namespace tramite::signing {

// What a certificate says about its holder.
struct CertificateInfo {
  std::string subject;      // RFC 2253 form, e.g. "UID=ana_lopez,CN=Ana López,O=DI"
  std::string issuer;       // RFC 2253 form
  std::string serial;       // hex
  std::string fingerprint;  // hex SHA-256 of the DER certificate
  std::string uid;          // the subject's UID attribute (the login it is issued to), or ""
  TimePoint not_before = 0;
  TimePoint not_after = 0;
};

// An RFC 3161 timestamp token found on a signature and verified.
struct TimestampInfo {
  TimePoint time = 0;  // the TSA's genTime
  std::string tsa;     // the TSA certificate's subject
};

// A signature that verified: who signed, when they said they did, and its timestamp.
struct SignatureCheck {
  CertificateInfo signer;
  TimePoint signing_time = 0;  // the signed signingTime attribute; 0 when absent
  std::optional<TimestampInfo> timestamp;
  std::string digest;  // hex SHA-256 of the signed content
};

// Why a signature is refused; the Status message names the reason in words too.
// kInvalidArgument: not a DER CMS SignedData with one signer and detached content.
// kFailedPrecondition with a message starting with one of:
//   "document mismatch:"  the signature is not over these bytes (or is corrupt);
//   "unknown CA:"         the signer's certificate does not chain to the trust store;
//   "expired:" / "not yet valid:"  the certificate is not valid at the check time;
//   "key usage:"          the certificate may not be used for signatures;
//   "timestamp:"          an attached timestamp token does not verify.
class TrustStore {
 public:
  // pem: one or more CA certificates (the institutional CA, a TSA's CA). Errors:
  // kInvalidArgument when the text holds no certificate or a broken one.
  static Result<TrustStore> fromPem(const std::string& pem);

  // Checks a detached signature over content at time `at`: the signature value, the chain
  // to a trusted CA, the certificate's validity dates at `at` and its key usage (digital
  // signature or non-repudiation), and any timestamp token on the signature.
  Result<SignatureCheck> verifyDetached(std::string_view p7s_der, std::string_view content,
                                        TimePoint at) const;
  // Checks an RFC 3161 timestamp token (DER) over data: its imprint is data's digest, and the
  // TSA's signature chains to a trusted CA. Errors: kFailedPrecondition ("timestamp: ...").
  Result<TimestampInfo> verifyTimestamp(const std::string& token_der, std::string_view data) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// The institutional seal: a certificate and its private key that sign documents the engine
// generates.
class Sealer {
 public:
  // cert_pem: the seal's certificate followed by any intermediate CA certificates;
  // key_pem: its private key. Errors: kInvalidArgument when either is missing or broken, or
  // when the key does not belong to the certificate.
  static Result<Sealer> fromPem(const std::string& cert_pem, const std::string& key_pem);

  // A detached CMS signature (DER) over content with SHA-256, signing time `at`, the
  // certificate chain included. Errors: kInternal when OpenSSL fails.
  Result<std::string> sign(std::string_view content, TimePoint at) const;
  const CertificateInfo& certificate() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// RFC 3161. The token stamps the signature value of the (single) signer, as CAdES-T does.
// A TimeStampReq (DER) for p7s's signature value: SHA-256 imprint, a random nonce, and a
// request for the TSA's certificate. Errors: kInvalidArgument for a malformed p7s.
Result<std::string> timestampQuery(std::string_view p7s_der);
// A TimeStampReq (DER) for any data: its SHA-256 imprint, a random nonce, a request for the
// TSA's certificate. Errors: kInternal when OpenSSL fails.
Result<std::string> timestampQueryFor(std::string_view data);
// The timestamp token (DER) of tsr_der, a TimeStampResp to query_der (made by
// timestampQueryFor(data)). Errors: kFailedPrecondition ("timestamp: ...") when the TSA
// refused, or the token does not stamp data or answer this query; kInvalidArgument for a
// malformed query.
Result<std::string> timestampTokenFor(std::string_view query_der, std::string_view tsr_der,
                                      std::string_view data);
// p7s with the token of tsr_der (a TimeStampResp to query) attached as the signer's
// id-aa-timeStampToken unsigned attribute. Errors: kFailedPrecondition ("timestamp: ...")
// when the TSA refused, or the token does not stamp this signature or answer this query.
Result<std::string> attachTimestamp(std::string_view p7s_der, std::string_view query_der,
                                    std::string_view tsr_der);

// The information of the first certificate in pem. Errors: kInvalidArgument.
Result<CertificateInfo> certificateInfo(const std::string& pem);

}  // namespace tramite::signing
