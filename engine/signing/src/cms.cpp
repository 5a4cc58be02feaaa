#include "tramite/signing/cms.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <vector>

namespace tramite::signing {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

void freeBio(BIO* b) {
  BIO_free(b);
}
void freeCertStack(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}
void freeBareStack(STACK_OF(X509) * s) {
  sk_X509_free(s);
}
void freeOpenSslBytes(unsigned char* p) {
  OPENSSL_free(p);
}
void freeOpenSslChars(char* p) {
  OPENSSL_free(p);
}

using BioPtr = Owned<BIO, freeBio>;
using CertPtr = std::shared_ptr<X509>;
using CmsPtr = Owned<CMS_ContentInfo, CMS_ContentInfo_free>;
using CertStack = Owned<STACK_OF(X509), freeCertStack>;
using BareStack = Owned<STACK_OF(X509), freeBareStack>;
using StoreCtxPtr = Owned<X509_STORE_CTX, X509_STORE_CTX_free>;
using BytesPtr = Owned<unsigned char, freeOpenSslBytes>;

BioPtr memBio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// OpenSSL's queued error reasons, cleared; "" when there are none.
std::string openSslErrors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text;
}

Status failed(ErrorCode code, std::string message) {
  ERR_clear_error();
  return Status(code, std::move(message));
}

// Encodes with an i2d function into a string.
template <typename T, typename I2d>
std::string der(T* object, I2d i2d) {
  unsigned char* out = nullptr;
  const int n = i2d(object, &out);
  if (n <= 0) return "";
  BytesPtr owned(out);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

// SHA-256 of bytes, raw.
std::string digestOf(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), n);
}

std::string sha256Hex(std::string_view bytes) {
  const std::string md = digestOf(bytes);
  return hex(reinterpret_cast<const unsigned char*>(md.data()), md.size());
}

TimePoint timeOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<TimePoint>(timegm(&tm)) * 1000;
}

std::string nameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bioText(bio.get());
}

std::string nameEntry(const X509_NAME* name, int nid) {
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0) return "";
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  BytesPtr owned(utf8);
  return std::string(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
}

CertificateInfo infoOf(X509* cert) {
  CertificateInfo info;
  info.subject = nameText(X509_get_subject_name(cert));
  info.issuer = nameText(X509_get_issuer_name(cert));
  info.uid = nameEntry(X509_get_subject_name(cert), NID_userId);
  if (const ASN1_INTEGER* serial = X509_get0_serialNumber(cert)) {
    Owned<BIGNUM, BN_free> bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (bn) {
      Owned<char, freeOpenSslChars> text(BN_bn2hex(bn.get()));
      if (text) info.serial = text.get();
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) == 1) info.fingerprint = hex(md, n);
  info.not_before = timeOf(X509_get0_notBefore(cert));
  info.not_after = timeOf(X509_get0_notAfter(cert));
  return info;
}

// Every certificate in pem, in order.
std::vector<CertPtr> readCertificates(const std::string& pem) {
  std::vector<CertPtr> certs;
  BioPtr bio = memBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert, X509_free);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return certs;
}

std::string dateText(TimePoint ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// Parses a detached SignedData with exactly one signer.
Result<CmsPtr> parseSignature(std::string_view p7s_der) {
  BioPtr in = memBio(p7s_der);
  CmsPtr cms(d2i_CMS_bio(in.get(), nullptr));
  if (!cms) return failed(ErrorCode::kInvalidArgument, "not a DER-encoded CMS (PKCS#7) signature");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return failed(ErrorCode::kInvalidArgument, "the CMS object is not SignedData");
  }
  if (CMS_is_detached(cms.get()) != 1) {
    return failed(ErrorCode::kInvalidArgument,
                  "the signature embeds its content; a detached signature is expected");
  }
  if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms.get())) != 1) {
    return failed(ErrorCode::kInvalidArgument, "the signature must have exactly one signer");
  }
  return cms;
}

CMS_SignerInfo* signerInfo(CMS_ContentInfo* cms) {
  return sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
}

// The bytes the timestamp stamps: the signer's signature value.
std::string_view signatureValue(CMS_SignerInfo* si) {
  ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(sig)),
          static_cast<std::size_t>(ASN1_STRING_length(sig))};
}

// The signingTime signed attribute, or 0.
TimePoint signingTime(CMS_SignerInfo* si) {
  const int at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (at < 0) return 0;
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, at), 0);
  if (!value) return 0;
  if (value->type == V_ASN1_UTCTIME || value->type == V_ASN1_GENERALIZEDTIME) {
    return timeOf(reinterpret_cast<const ASN1_TIME*>(value->value.asn1_string));
  }
  return 0;
}

// The DER timestamp token in si's unsigned attributes, or "".
std::string timestampToken(CMS_SignerInfo* si) {
  const int at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  if (at < 0) return "";
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, at), 0);
  if (!value || value->type != V_ASN1_SEQUENCE) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.sequence)),
                     static_cast<std::size_t>(ASN1_STRING_length(value->value.sequence)));
}

}  // namespace

// ---- trust store ---------------------------------------------------------------------------

struct TrustStore::Impl {
  std::shared_ptr<X509_STORE> store;
};

namespace {

// Verifies a timestamp token (DER) over stamped (a signature value, a checkpoint) against store.
Result<TimestampInfo> verifyToken(X509_STORE* store, const std::string& token,
                                  std::string_view stamped) {
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  Owned<PKCS7, PKCS7_free> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(token.size())));
  if (!p7) return failed(ErrorCode::kFailedPrecondition, "timestamp: the token is not DER PKCS#7");
  Owned<TS_TST_INFO, TS_TST_INFO_free> info(PKCS7_to_TS_TST_INFO(p7.get()));
  if (!info) return failed(ErrorCode::kFailedPrecondition, "timestamp: the token holds no TSTInfo");
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info.get());
  const EVP_MD* md = EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(imprint)->algorithm);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!md || EVP_Digest(stamped.data(), stamped.size(), digest, &n, md, nullptr) != 1) {
    return failed(ErrorCode::kFailedPrecondition, "timestamp: unknown imprint algorithm");
  }
  const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(imprint);
  if (static_cast<unsigned int>(ASN1_STRING_length(msg)) != n ||
      std::memcmp(ASN1_STRING_get0_data(msg), digest, n) != 0) {
    return failed(ErrorCode::kFailedPrecondition, "timestamp: the token stamps other data");
  }
  Owned<TS_VERIFY_CTX, TS_VERIFY_CTX_free> ctx(TS_VERIFY_CTX_new());
  X509_STORE_up_ref(store);  // the context frees its store
  TS_VERIFY_CTX_set_store(ctx.get(), store);
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE);
  if (TS_RESP_verify_token(ctx.get(), p7.get()) != 1) {
    return failed(
        ErrorCode::kFailedPrecondition,
        "timestamp: the token does not verify against the trust store (" + openSslErrors() + ")");
  }
  TimestampInfo out;
  out.time = timeOf(TS_TST_INFO_get_time(info.get()));
  BareStack signers(PKCS7_get0_signers(p7.get(), nullptr, 0));
  if (signers && sk_X509_num(signers.get()) > 0) {
    out.tsa = nameText(X509_get_subject_name(sk_X509_value(signers.get(), 0)));
  }
  ERR_clear_error();
  return out;
}

}  // namespace

Result<TimestampInfo> TrustStore::verifyTimestamp(const std::string& token_der,
                                                  std::string_view data) const {
  return verifyToken(impl_->store.get(), token_der, data);
}

Result<TrustStore> TrustStore::fromPem(const std::string& pem) {
  std::vector<CertPtr> certs = readCertificates(pem);
  if (certs.empty()) {
    return failed(ErrorCode::kInvalidArgument, "the trust store holds no PEM certificate");
  }
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  for (const CertPtr& cert : certs) {
    if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
      return failed(ErrorCode::kInvalidArgument,
                    "cannot add a certificate to the trust store: " + openSslErrors());
    }
  }
  TrustStore t;
  t.impl_ = std::make_shared<Impl>(Impl{std::move(store)});
  return t;
}

Result<SignatureCheck> TrustStore::verifyDetached(std::string_view p7s_der,
                                                  std::string_view content, TimePoint at) const {
  auto cms = parseSignature(p7s_der);
  if (!cms) return cms.status();
  CMS_SignerInfo* si = signerInfo(cms->get());
  CMS_set1_signers_certs(cms->get(), nullptr, 0);
  X509* signer = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, &signer, nullptr, nullptr);
  if (!signer) {
    return failed(ErrorCode::kInvalidArgument,
                  "the signature does not include the signer's certificate");
  }
  BioPtr data = memBio(content);
  if (CMS_verify(cms->get(), nullptr, nullptr, data.get(), nullptr,
                 CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    return failed(ErrorCode::kFailedPrecondition,
                  "document mismatch: the signature is not over this document's bytes (" +
                      openSslErrors() + ")");
  }

  SignatureCheck check;
  check.signer = infoOf(signer);
  check.signing_time = signingTime(si);
  check.digest = sha256Hex(content);
  const std::string who = "the signer's certificate (" + check.signer.subject + ")";

  CertStack untrusted(CMS_get1_certs(cms->get()));
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), impl_->store.get(), signer, untrusted.get()) != 1) {
    return failed(ErrorCode::kInternal, "cannot set up certificate verification");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                             static_cast<std::time_t>(at / 1000));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const std::string reason = X509_verify_cert_error_string(err);
    switch (err) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        return failed(ErrorCode::kFailedPrecondition, "expired: " + who + " expired on " +
                                                          dateText(check.signer.not_after) +
                                                          " (checked at " + dateText(at) + ")");
      case X509_V_ERR_CERT_NOT_YET_VALID:
        return failed(ErrorCode::kFailedPrecondition, "not yet valid: " + who + " is valid from " +
                                                          dateText(check.signer.not_before) +
                                                          " (checked at " + dateText(at) + ")");
      default:
        return failed(ErrorCode::kFailedPrecondition,
                      "unknown CA: " + who + ", issued by " + check.signer.issuer +
                          ", does not chain to the trust store (" + reason + ")");
    }
  }
  const std::uint32_t usage = X509_get_key_usage(signer);
  if (usage != UINT32_MAX && (usage & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
    return failed(ErrorCode::kFailedPrecondition,
                  "key usage: " + who + " allows neither digital signature nor non-repudiation");
  }
  const std::string token = timestampToken(si);
  if (!token.empty()) {
    auto stamp = verifyToken(impl_->store.get(), token, signatureValue(si));
    if (!stamp) return stamp.status();
    check.timestamp = std::move(stamp).value();
  }
  ERR_clear_error();
  return check;
}

// ---- seal ----------------------------------------------------------------------------------

struct Sealer::Impl {
  CertPtr cert;
  std::shared_ptr<EVP_PKEY> key;
  std::shared_ptr<STACK_OF(X509)> chain;
  CertificateInfo info;
};

Result<Sealer> Sealer::fromPem(const std::string& cert_pem, const std::string& key_pem) {
  std::vector<CertPtr> certs = readCertificates(cert_pem);
  if (certs.empty()) return failed(ErrorCode::kInvalidArgument, "the seal has no PEM certificate");
  BioPtr bio = memBio(key_pem);
  std::shared_ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                EVP_PKEY_free);
  if (!key) return failed(ErrorCode::kInvalidArgument, "the seal key is not a PEM private key");
  if (X509_check_private_key(certs[0].get(), key.get()) != 1) {
    return failed(ErrorCode::kInvalidArgument, "the seal key does not belong to its certificate");
  }
  std::shared_ptr<STACK_OF(X509)> chain(sk_X509_new_null(), freeCertStack);
  for (std::size_t i = 1; i < certs.size(); ++i) {
    X509_up_ref(certs[i].get());
    sk_X509_push(chain.get(), certs[i].get());
  }
  Sealer s;
  CertificateInfo info = infoOf(certs[0].get());
  s.impl_ = std::make_shared<const Impl>(
      Impl{certs[0], std::move(key), std::move(chain), std::move(info)});
  return s;
}

const CertificateInfo& Sealer::certificate() const {
  return impl_->info;
}

Result<std::string> Sealer::sign(std::string_view content, TimePoint at) const {
  constexpr unsigned flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL;
  CmsPtr cms(CMS_sign(nullptr, nullptr, impl_->chain.get(), nullptr, flags));
  CMS_SignerInfo* si =
      cms ? CMS_add1_signer(cms.get(), impl_->cert.get(), impl_->key.get(), EVP_sha256(), flags)
          : nullptr;
  // The signing time comes from the injected clock: OpenSSL adds the system's only when
  // the attribute is missing.
  Owned<ASN1_TIME, ASN1_TIME_free> when(
      ASN1_TIME_set(nullptr, static_cast<std::time_t>(at / 1000)));
  BioPtr data = memBio(content);
  if (!si || !when ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, when->type, when.get(), -1) != 1 ||
      CMS_final(cms.get(), data.get(), nullptr, flags) != 1) {
    return failed(ErrorCode::kInternal, "sealing failed: " + openSslErrors());
  }
  std::string out = der(cms.get(), i2d_CMS_ContentInfo);
  if (out.empty()) return failed(ErrorCode::kInternal, "cannot encode the seal's signature");
  return out;
}

// ---- RFC 3161 ------------------------------------------------------------------------------

namespace {

std::string_view octets(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(ASN1_STRING_length(s))};
}

}  // namespace

Result<std::string> timestampQuery(std::string_view p7s_der) {
  auto cms = parseSignature(p7s_der);
  if (!cms) return cms.status();
  return timestampQueryFor(signatureValue(signerInfo(cms->get())));
}

Result<std::string> timestampQueryFor(std::string_view data) {
  const std::string digest = digestOf(data);
  Owned<TS_REQ, TS_REQ_free> req(TS_REQ_new());
  Owned<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free> imprint(TS_MSG_IMPRINT_new());
  Owned<X509_ALGOR, X509_ALGOR_free> alg(X509_ALGOR_new());
  unsigned char nonce_bytes[8];
  Owned<BIGNUM, BN_free> nonce_bn(BN_new());
  if (!req || !imprint || !alg || !nonce_bn || RAND_bytes(nonce_bytes, sizeof nonce_bytes) != 1 ||
      !BN_bin2bn(nonce_bytes, sizeof nonce_bytes, nonce_bn.get())) {
    return failed(ErrorCode::kInternal, "cannot build a timestamp query");
  }
  Owned<ASN1_INTEGER, ASN1_INTEGER_free> nonce(BN_to_ASN1_INTEGER(nonce_bn.get(), nullptr));
  X509_ALGOR_set0(alg.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
  if (!nonce || TS_REQ_set_version(req.get(), 1) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), alg.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(),
                             reinterpret_cast<unsigned char*>(const_cast<char*>(digest.data())),
                             static_cast<int>(digest.size())) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 ||
      TS_REQ_set_nonce(req.get(), nonce.get()) != 1 || TS_REQ_set_cert_req(req.get(), 1) != 1) {
    return failed(ErrorCode::kInternal, "cannot build a timestamp query: " + openSslErrors());
  }
  return der(req.get(), i2d_TS_REQ);
}

Result<std::string> timestampTokenFor(std::string_view query_der, std::string_view tsr_der,
                                      std::string_view data) {
  const auto* q = reinterpret_cast<const unsigned char*>(query_der.data());
  Owned<TS_REQ, TS_REQ_free> req(d2i_TS_REQ(nullptr, &q, static_cast<long>(query_der.size())));
  const auto* r = reinterpret_cast<const unsigned char*>(tsr_der.data());
  Owned<TS_RESP, TS_RESP_free> resp(d2i_TS_RESP(nullptr, &r, static_cast<long>(tsr_der.size())));
  if (!req)
    return failed(ErrorCode::kInvalidArgument, "timestamp: the query is not a TimeStampReq");
  if (!resp) {
    return failed(ErrorCode::kFailedPrecondition,
                  "timestamp: the TSA's answer is not a TimeStampResp");
  }
  const long granted =
      ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp.get())));
  PKCS7* token = TS_RESP_get_token(resp.get());
  TS_TST_INFO* info = TS_RESP_get_tst_info(resp.get());
  if ((granted != 0 && granted != 1) || !token || !info) {
    return failed(
        ErrorCode::kFailedPrecondition,
        "timestamp: the TSA refused the request (status " + std::to_string(granted) + ")");
  }
  const std::string_view asked = octets(TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(req.get())));
  if (asked != digestOf(data) ||
      octets(TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(info))) != asked) {
    return failed(ErrorCode::kFailedPrecondition,
                  "timestamp: the token does not stamp these bytes");
  }
  const ASN1_INTEGER* sent = TS_REQ_get_nonce(req.get());
  const ASN1_INTEGER* echoed = TS_TST_INFO_get_nonce(info);
  if (!sent || !echoed || ASN1_INTEGER_cmp(sent, echoed) != 0) {
    return failed(ErrorCode::kFailedPrecondition,
                  "timestamp: the token does not answer this query (nonce)");
  }
  std::string out = der(token, i2d_PKCS7);
  if (out.empty()) return failed(ErrorCode::kInternal, "cannot encode the timestamp token");
  return out;
}

Result<std::string> attachTimestamp(std::string_view p7s_der, std::string_view query_der,
                                    std::string_view tsr_der) {
  auto cms = parseSignature(p7s_der);
  if (!cms) return cms.status();
  CMS_SignerInfo* si = signerInfo(cms->get());
  auto token = timestampTokenFor(query_der, tsr_der, signatureValue(si));
  if (!token) return token.status();
  const std::string& token_der = *token;
  Owned<ASN1_STRING, ASN1_STRING_free> seq(ASN1_STRING_type_new(V_ASN1_SEQUENCE));
  if (!seq ||
      ASN1_STRING_set(seq.get(), token_der.data(), static_cast<int>(token_der.size())) != 1 ||
      CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, seq.get(),
                                    -1) != 1) {
    return failed(ErrorCode::kInternal, "cannot attach the timestamp: " + openSslErrors());
  }
  std::string out = der(cms->get(), i2d_CMS_ContentInfo);
  if (out.empty()) return failed(ErrorCode::kInternal, "cannot encode the timestamped signature");
  return out;
}

Result<CertificateInfo> certificateInfo(const std::string& pem) {
  std::vector<CertPtr> certs = readCertificates(pem);
  if (certs.empty()) return failed(ErrorCode::kInvalidArgument, "no PEM certificate");
  return infoOf(certs[0].get());
}

}  // namespace tramite::signing
