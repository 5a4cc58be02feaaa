// CMS detached signatures and RFC 3161 timestamps against stock openssl: signatures made by
// `openssl cms -sign` are accepted, the seal's verify with `openssl cms -verify`, and each
// refusal names its reason.
#include <gtest/gtest.h>

#include "pki.h"
#include "tramite/signing/cms.h"

namespace tramite::signing {
namespace {

using testing::Pki;
using testing::readBytes;
using testing::shell;
using testing::writeBytes;

class SigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto trust = TrustStore::fromPem(pki_.pem("ca"));
    ASSERT_TRUE(trust) << trust.status().toString();
    trust_ = std::make_unique<TrustStore>(std::move(trust).value());
    writeBytes(doc_path_, doc_);
    now_ = static_cast<TimePoint>(::time(nullptr)) * 1000;
  }
  std::string refusal(const std::string& p7s, const std::string& content, TimePoint at) {
    auto r = trust_->verifyDetached(p7s, content, at);
    return r ? "accepted" : r.status().message();
  }

  Pki pki_;
  std::unique_ptr<TrustStore> trust_;
  std::string doc_ = "ACTA DE APERTURA DE OFERTAS\nLicitacion LP-01/2024\n";
  std::string doc_path_ = pki_.file("acta.txt");
  TimePoint now_ = 0;
  static constexpr TimePoint kDay = 86'400'000;
};

TEST_F(SigningTest, AcceptsASignatureMadeByOpensslCms) {
  const std::string p7s = pki_.opensslSign("ana", doc_path_);
  auto check = trust_->verifyDetached(p7s, doc_, now_);
  ASSERT_TRUE(check) << check.status().toString();
  EXPECT_EQ(check->signer.uid, "ana_lopez");
  EXPECT_NE(check->signer.subject.find("CN=Ana Lopez"), std::string::npos);
  EXPECT_NE(check->signer.issuer.find("DI Autoridad Certificadora"), std::string::npos);
  EXPECT_EQ(check->signer.fingerprint.size(), 64u);
  EXPECT_NEAR(static_cast<double>(check->signing_time), static_cast<double>(now_), 120'000.0);
  EXPECT_FALSE(check->timestamp.has_value());
}

TEST_F(SigningTest, TheSealVerifiesWithOpensslCmsVerify) {
  auto sealer = Sealer::fromPem(pki_.pem("seal"), pki_.key("seal"));
  ASSERT_TRUE(sealer) << sealer.status().toString();
  const TimePoint at = now_ - 3'600'000;
  auto p7s = sealer->sign(doc_, at);
  ASSERT_TRUE(p7s) << p7s.status().toString();
  writeBytes(pki_.file("seal.p7s"), *p7s);
  EXPECT_EQ(shell("openssl cms -verify -binary -inform DER -in " + pki_.file("seal.p7s") +
                  " -content " + doc_path_ + " -CAfile " + pki_.file("ca.pem") +
                  " -purpose any -out /dev/null 2>/dev/null"),
            0);
  // And stock openssl refuses it over other bytes.
  writeBytes(pki_.file("other.txt"), doc_ + "x");
  EXPECT_NE(shell("openssl cms -verify -binary -inform DER -in " + pki_.file("seal.p7s") +
                  " -content " + pki_.file("other.txt") + " -CAfile " + pki_.file("ca.pem") +
                  " -purpose any -out /dev/null 2>/dev/null"),
            0);
  auto check = trust_->verifyDetached(*p7s, doc_, now_);
  ASSERT_TRUE(check) << check.status().toString();
  EXPECT_EQ(check->signing_time, at / 1000 * 1000);  // the injected clock, not the system's
  EXPECT_EQ(check->signer.fingerprint, sealer->certificate().fingerprint);
}

TEST_F(SigningTest, RefusesWithTheReason) {
  const std::string ana = pki_.opensslSign("ana", doc_path_);
  EXPECT_EQ(refusal(ana, doc_ + " ", now_).rfind("document mismatch:", 0), 0u)
      << refusal(ana, doc_ + " ", now_);
  EXPECT_EQ(refusal(pki_.opensslSign("rogue", doc_path_), doc_, now_).rfind("unknown CA:", 0), 0u);
  EXPECT_EQ(refusal(ana, doc_, now_ + 60 * kDay).rfind("expired:", 0), 0u);
  EXPECT_EQ(refusal(ana, doc_, now_ - 2 * kDay).rfind("not yet valid:", 0), 0u);
  EXPECT_EQ(refusal(pki_.opensslSign("noku", doc_path_), doc_, now_).rfind("key usage:", 0), 0u);

  auto garbage = trust_->verifyDetached("not DER at all", doc_, now_);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.status().code(), ErrorCode::kInvalidArgument);
  ASSERT_EQ(shell("openssl cms -sign -nodetach -binary -outform DER -in " + doc_path_ +
                  " -signer " + pki_.file("ana.pem") + " -inkey " + pki_.file("ana.key") +
                  " -out " + pki_.file("attached.p7s")),
            0);
  EXPECT_NE(refusal(readBytes(pki_.file("attached.p7s")), doc_, now_).find("detached"),
            std::string::npos);
}

TEST_F(SigningTest, TimestampsFromAnOpensslTsAuthority) {
  const std::string p7s = pki_.opensslSign("ana", doc_path_);
  auto query = timestampQuery(p7s);
  ASSERT_TRUE(query) << query.status().toString();
  writeBytes(pki_.file("q.tsq"), *query);
  ASSERT_EQ(shell("openssl ts -reply -config " + pki_.file("tsa.cnf") + " -queryfile " +
                  pki_.file("q.tsq") + " -out " + pki_.file("r.tsr") + " 2>/dev/null"),
            0);
  const std::string reply = readBytes(pki_.file("r.tsr"));
  auto stamped = attachTimestamp(p7s, *query, reply);
  ASSERT_TRUE(stamped) << stamped.status().toString();
  auto check = trust_->verifyDetached(*stamped, doc_, now_);
  ASSERT_TRUE(check) << check.status().toString();
  ASSERT_TRUE(check->timestamp.has_value());
  EXPECT_NEAR(static_cast<double>(check->timestamp->time), static_cast<double>(now_), 120'000.0);
  EXPECT_NE(check->timestamp->tsa.find("DI Sello de tiempo"), std::string::npos);
  // The stamped signature still verifies with stock openssl.
  writeBytes(pki_.file("stamped.p7s"), *stamped);
  EXPECT_EQ(shell("openssl cms -verify -binary -inform DER -in " + pki_.file("stamped.p7s") +
                  " -content " + doc_path_ + " -CAfile " + pki_.file("ca.pem") +
                  " -purpose any -out /dev/null 2>/dev/null"),
            0);

  // A reply to another signature's query is refused.
  const std::string other = pki_.opensslSign("elena", doc_path_);
  auto wrong = attachTimestamp(other, *query, reply);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.status().message().rfind("timestamp:", 0), 0u) << wrong.status().message();
  // A reply to the same signature's earlier query (another nonce) is refused.
  auto again = timestampQuery(p7s);
  ASSERT_TRUE(again);
  auto replayed = attachTimestamp(p7s, *again, reply);
  ASSERT_FALSE(replayed);
  EXPECT_NE(replayed.status().message().find("nonce"), std::string::npos);
}

}  // namespace
}  // namespace tramite::signing
