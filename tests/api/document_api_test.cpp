// Documents, signatures, the audit routes and the expediente bundle through the API handlers
// (no sockets), with a TSA served over HTTP by a local Poco server running stock
// `openssl ts -reply`. The bundle is then checked by `tramite audit verify-bundle`, by stock
// sha256sum and openssl, and tampered with.
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>

#include <mutex>

#include "api_contract.h"
#include "pki.h"
#include "test_files.h"
#include "tramite/api/api.h"
#include "tramite/api/tsa.h"
#include "tramite/audit/json_forms.h"
#include "tramite/ledger/bundle.h"
#include "tramite/ledger/ledger.h"
#include "tramite/runtime/directory.h"

namespace tramite::api {
namespace {

using testing::Pki;
using testing::readBytes;
using testing::readSourceFile;
using testing::shell;
using testing::writeBytes;

// A TSA over HTTP: each query is answered by `openssl ts -reply` with the PKI's TSA.
class TsaHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit TsaHandler(const Pki& pki) : pki_(pki) {}
  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    static std::mutex mu;  // one openssl run at a time over the same files
    std::lock_guard<std::mutex> lock(mu);
    std::string query(std::istreambuf_iterator<char>(req.stream()), {});
    writeBytes(pki_.file("http.tsq"), query);
    if (req.getContentType() != "application/timestamp-query" ||
        shell("openssl ts -reply -config " + pki_.file("tsa.cnf") + " -queryfile " +
              pki_.file("http.tsq") + " -out " + pki_.file("http.tsr") + " 2>/dev/null") != 0) {
      resp.setStatus(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
      resp.send();
      return;
    }
    const std::string reply = readBytes(pki_.file("http.tsr"));
    resp.setContentType("application/timestamp-reply");
    resp.setContentLength(static_cast<std::streamsize>(reply.size()));
    resp.send() << reply;
  }

 private:
  const Pki& pki_;
};

class TsaFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit TsaFactory(const Pki& pki) : pki_(pki) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new TsaHandler(pki_);
  }

 private:
  const Pki& pki_;
};

const char* kProcess = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml"
    xmlns:w="urn:tramite:workflow:1" version="1.0" datamodel="lua" name="recepcion">
  <datamodel>
    <data id="contrato" expr="'CD-12/2024'"/><data id="administrador" expr="'irene_molina'"/>
    <data id="contratista" expr="'Servicios Generales S.A. de C.V.'"/>
    <data id="entregas" expr="{}"/><data id="conforme" expr="true"/>
  </datamodel>
  <w:accepts event="recibido" roles="administrador_contrato"/>
  <state id="recepcion">
    <onentry><w:render template="acta-recepcion" document="acta_recepcion"/></onentry>
    <w:requires document="acta_recepcion"><w:signed-by roles="abogado"/></w:requires>
    <transition event="recibido" target="fin"/>
  </state>
  <final id="fin"/>
</scxml>)";

class DocumentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::openStore("sqlite:" + pki_.file("t.db"));
    ASSERT_TRUE(store) << store.status().toString();
    store_ = std::shared_ptr<storage::Store>(std::move(store).value());
    tsa_ = std::make_unique<Poco::Net::HTTPServer>(new TsaFactory(pki_), Poco::Net::ServerSocket(0),
                                                   new Poco::Net::HTTPServerParams);
    tsa_->start();
    runtime::EngineOptions options;
    options.blobs = storage::filesystemBlobStore(pki_.file("documents"));
    options.trust_store =
        std::make_shared<const signing::TrustStore>(*signing::TrustStore::fromPem(pki_.pem("ca")));
    options.seal = std::make_shared<const signing::Sealer>(
        *signing::Sealer::fromPem(pki_.pem("seal"), pki_.key("seal")));
    options.timestamp_authority =
        timestampAuthority("http://127.0.0.1:" + std::to_string(tsa_->port()) + "/tsa");
    options.templates["acta-recepcion"] = readSourceFile("templates/acta-recepcion.mustache");
    clock_.set(static_cast<TimePoint>(::time(nullptr)) * 1000);
    engine_ = std::make_shared<runtime::Engine>(store_, clock_, options);
    auto directory =
        runtime::loadDirectoryFile(std::string(TRAMITE_SOURCE_DIR) + "/config/directory.json");
    ASSERT_TRUE(directory);
    ASSERT_TRUE(engine_->importDirectory(*directory));
    ASSERT_TRUE(engine_->deploy("recepcion", kProcess, "admin"));
    auto key = audit::Signer::generatePem();
    ASSERT_TRUE(key);
    signer_ = std::make_shared<const audit::Signer>(*audit::Signer::fromPem(*key));
    writeBytes(pki_.file("ledger.key.pub"), signer_->publicKeyPem());

    ApiOptions api_options;
    api_options.token_secret = std::string(32, 'k');
    api_options.argon2_memory_kib = 1024;
    api_options.argon2_passes = 1;
    api_options.max_body_bytes = 4 * 1024;
    api_options.max_upload_bytes = 64 * 1024;
    api_options.ledger_signer = signer_;
    api_ = std::make_unique<Api>(engine_, store_, clock_, api_options);
    for (const char* u : {"irene_molina", "ana_lopez", "marta_rivas", "carla_mendez"}) {
      ASSERT_TRUE(api_->setPassword(u, "clave-de-prueba"));
    }
  }
  void TearDown() override { tsa_->stop(); }

  std::string login(const std::string& user) {
    HttpRequest req{
        "POST",
        "/api/v1/login",
        {},
        {{"content-type", "application/json"}},
        json::dump(json::Value(json::Object{{"username", user}, {"password", "clave-de-prueba"}})),
        ""};
    HttpResponse r = api_->handle(req);
    auto body = json::parse(r.body);
    return body && body->find("token") ? body->find("token")->asString() : "";
  }
  HttpResponse call(const std::string& method, const std::string& path, const std::string& token,
                    std::string body = {}, const std::string& type = "application/json",
                    std::vector<std::pair<std::string, std::string>> query = {}) {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.query = std::move(query);
    req.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) req.headers["content-type"] = type;
    req.body = std::move(body);
    HttpResponse r = api_->handle(req);
    expectAsDocumented(method, path, r.status, r.content_type, r.body);
    return r;
  }
  static json::Value body(const HttpResponse& r) {
    auto v = json::parse(r.body);
    return v ? *v : json::Value();
  }
  static std::string errorCode(const HttpResponse& r) {
    const json::Value b = body(r);
    const json::Value* e = b.find("error");
    return e ? e->find("code")->asString() : "(none)";
  }

  Pki pki_;
  ManualClock clock_;
  std::shared_ptr<storage::Store> store_;
  std::unique_ptr<Poco::Net::HTTPServer> tsa_;
  std::shared_ptr<runtime::Engine> engine_;
  std::shared_ptr<const audit::Signer> signer_;
  std::unique_ptr<Api> api_;
};

TEST_F(DocumentApiTest, DocumentsSignaturesAndAVerifiableBundle) {
  const std::string irene = login("irene_molina");
  const std::string ana = login("ana_lopez");
  const std::string marta = login("marta_rivas");  // an auditor
  ASSERT_FALSE(irene.empty());
  HttpResponse started = call("POST", "/api/v1/instances", irene,
                              json::dump(json::Value(json::Object{
                                  {"definition", "recepcion"}, {"business_key", "UAC-2024-017"}})));
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string id = body(started).find("id")->asString();
  const std::string docs_path = "/api/v1/instances/" + id + "/documents";

  // Upload: raw bytes, checked type, size limit, JSON errors.
  const std::string pdf = "%PDF-1.7\nfactura 0042\n";
  HttpResponse up = call("POST", docs_path + "/factura", irene, pdf, "application/pdf",
                         {{"filename", "factura-0042.pdf"}});
  ASSERT_EQ(up.status, 201) << up.body;
  const json::Value factura = body(up);
  EXPECT_EQ(factura.find("version")->asInt(), 1);
  const std::string factura_id = factura.find("id")->asString();
  EXPECT_EQ(call("POST", docs_path + "/factura", irene, "not a pdf", "application/pdf").status,
            415);
  EXPECT_EQ(errorCode(call("POST", docs_path + "/factura", irene,
                           "%PDF-" + std::string(70'000, 'x'), "application/pdf")),
            "resource_exhausted");
  EXPECT_EQ(call("POST", docs_path + "/factura", marta, pdf, "application/pdf").status, 403);
  // A JSON call keeps the small limit.
  EXPECT_EQ(call("POST", "/api/v1/instances/" + id + "/events", irene,
                 "{\"name\":\"" + std::string(5000, 'x') + "\"}")
                .status,
            413);

  // Download: the same bytes, the stored type, the hash as ETag, no sniffing.
  HttpResponse content = call("GET", "/api/v1/documents/" + factura_id + "/content", marta);
  ASSERT_EQ(content.status, 200) << content.body;
  EXPECT_EQ(content.body, pdf);
  EXPECT_EQ(content.content_type, "application/pdf");
  bool etag = false, nosniff = false;
  for (const auto& [k, v] : content.headers) {
    etag |= k == "ETag" && v == "\"" + factura.find("sha256")->asString() + "\"";
    nosniff |= k == "X-Content-Type-Options" && v == "nosniff";
  }
  EXPECT_TRUE(etag && nosniff);
  EXPECT_EQ(
      call("GET", "/api/v1/documents/" + factura_id + "/content", login("carla_mendez")).status,
      403);  // takes no part in this expediente

  // The rendered, sealed acta holds the process until a lawyer signs it.
  HttpResponse list = call("GET", docs_path, irene);
  ASSERT_EQ(list.status, 200);
  std::string acta_id, acta_sha;
  const json::Value listed = body(list);
  for (const json::Value& d : listed.find("documents")->asArray()) {
    if (d.find("name")->asString() == "acta_recepcion") {
      acta_id = d.find("id")->asString();
      acta_sha = d.find("sha256")->asString();
      EXPECT_EQ(d.find("signatures")->asArray().size(), 1u);  // the seal
    }
  }
  ASSERT_FALSE(acta_id.empty());
  HttpResponse held =
      call("POST", "/api/v1/instances/" + id + "/events", irene, "{\"name\":\"recibido\"}");
  EXPECT_EQ(held.status, 409);
  EXPECT_NE(held.body.find("'acta_recepcion' v1 needs 1 signature by abogado, has 0"),
            std::string::npos)
      << held.body;

  // The lawyer takes no part in the expediente: the administrator hands her the acta, she
  // signs it elsewhere and records her signature herself; the signer is who the certificate
  // names, and nobody else may record it (issue 26, item 6).
  EXPECT_EQ(call("GET", "/api/v1/documents/" + acta_id + "/content", ana).status, 403);
  HttpResponse acta = call("GET", "/api/v1/documents/" + acta_id + "/content", irene);
  ASSERT_EQ(acta.status, 200) << acta.body;
  writeBytes(pki_.file("acta.html"), acta.body);
  const std::string p7s = pki_.opensslSign("ana", pki_.file("acta.html"));
  EXPECT_EQ(
      call("POST", "/api/v1/documents/" + acta_id + "/signatures", irene, p7s, "application/json")
          .status,
      415);
  EXPECT_EQ(call("POST", "/api/v1/documents/" + acta_id + "/signatures", irene, p7s,
                 "application/pkcs7-signature")
                .status,
            403);
  HttpResponse signed_up = call("POST", "/api/v1/documents/" + acta_id + "/signatures", ana, p7s,
                                "application/pkcs7-signature");
  ASSERT_EQ(signed_up.status, 201) << signed_up.body;
  const json::Value sig = body(signed_up);
  EXPECT_EQ(sig.find("signer")->asString(), "ana_lopez");
  EXPECT_EQ(sig.find("created_by")->asString(), "ana_lopez");
  ASSERT_TRUE(sig.find("timestamp_at"));  // stamped over HTTP by the TSA
  HttpResponse mismatch = call("POST", "/api/v1/documents/" + factura_id + "/signatures", irene,
                               p7s, "application/pkcs7-signature");
  EXPECT_EQ(mismatch.status, 409);
  EXPECT_NE(mismatch.body.find("document mismatch"), std::string::npos);
  HttpResponse stored = call(
      "GET", "/api/v1/documents/" + acta_id + "/signatures/" + sig.find("id")->asString() + "/p7s",
      marta);
  ASSERT_EQ(stored.status, 200);
  EXPECT_EQ(stored.content_type, "application/pkcs7-signature");
  HttpResponse moved =
      call("POST", "/api/v1/instances/" + id + "/events", irene, "{\"name\":\"recibido\"}");
  ASSERT_EQ(moved.status, 200) << moved.body;

  // The server serves the key its checkpoints are signed with (issue 26, item 10).
  HttpResponse served = call("GET", "/api/v1/audit/key", "");
  ASSERT_EQ(served.status, 200) << served.body;
  const json::Value served_key = body(served);
  EXPECT_EQ(served_key.find("public_key_pem")->asString(), readBytes(pki_.file("ledger.key.pub")));
  EXPECT_EQ(served_key.find("fingerprint_sha256")->asString().size(), 64u);
  EXPECT_EQ(served_key.find("fingerprint_sha256")->asString().substr(0, 16),
            served_key.find("key_id")->asString());

  // The bundle: exported with a fresh checkpoint, verified offline, by our tool and stock ones.
  HttpResponse zip = call("GET", "/api/v1/instances/" + id + "/bundle", marta);
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(zip.content_type, "application/zip");
  writeBytes(pki_.file("bundle.zip"), zip.body);
  const std::string tool = std::string(TRAMITE_BINARY) + " audit verify-bundle " +
                           pki_.file("bundle.zip") + " --key " + pki_.file("ledger.key.pub") +
                           " --trust " + pki_.file("ca.pem") + " > " + pki_.file("out.txt");
  EXPECT_EQ(shell(tool), 0) << readBytes(pki_.file("out.txt"));
  EXPECT_NE(readBytes(pki_.file("out.txt")).find("2 documents and 2 signatures match"),
            std::string::npos)
      << readBytes(pki_.file("out.txt"));
  const std::string unzipped = pki_.file("unzipped");
  ASSERT_EQ(shell("unzip -q " + pki_.file("bundle.zip") + " -d " + unzipped), 0);
  EXPECT_EQ(shell("cd " + unzipped + " && sha256sum --quiet -c SHA256SUMS"), 0);
  EXPECT_EQ(shell("openssl pkeyutl -verify -pubin -inkey " + pki_.file("ledger.key.pub") +
                  " -rawin -in " + unzipped + "/checkpoint.txt -sigfile " + unzipped +
                  "/checkpoint.sig > /dev/null"),
            0);
  EXPECT_EQ(shell("cd " + unzipped +
                  " && for s in signatures/acta_recepcion/*.p7s; do "
                  "openssl cms -verify -binary -inform DER -in $s -content "
                  "documents/acta_recepcion/v1-acta_recepcion.html -CAfile " +
                  pki_.file("ca.pem") + " -purpose any -out /dev/null 2>/dev/null || exit 1; done"),
            0);

  // Tampering: one byte of a document, then a history entry, each named by the check.
  ASSERT_EQ(shell("cd " + unzipped +
                  " && printf x >> documents/factura/v1-factura-0042.pdf && "
                  "zip -q -r ../tampered.zip ."),
            0);
  auto key = audit::CheckpointVerifier::fromPem(signer_->publicKeyPem());
  ASSERT_TRUE(key);
  auto report = audit::verifyBundle(readBytes(pki_.file("tampered.zip")), *key, nullptr);
  ASSERT_TRUE(report) << report.status().toString();
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->findings.front(),
            "document documents/factura/v1-factura-0042.pdf: its bytes do not match the "
            "manifest's SHA-256");
  std::string ledger = readBytes(unzipped + "/ledger.json");
  const std::size_t at = ledger.find("irene_molina");
  ASSERT_NE(at, std::string::npos);
  ledger.replace(at, 12, "admin_x_0000");
  writeBytes(unzipped + "/ledger.json", ledger);
  ASSERT_EQ(shell("cd " + unzipped + " && rm ../tampered.zip && zip -q -r ../tampered.zip ."), 0);
  report = audit::verifyBundle(readBytes(pki_.file("tampered.zip")), *key, nullptr);
  ASSERT_TRUE(report);
  ASSERT_GE(report->findings.size(), 2u);
  EXPECT_NE(report->findings[0].find("altered: its content does not hash to its recorded leaf"),
            std::string::npos)
      << report->findings[0];
  EXPECT_EQ(
      shell(std::string(TRAMITE_BINARY) + " audit verify-bundle " + pki_.file("tampered.zip") +
            " --key " + pki_.file("ledger.key.pub") + " > /dev/null"),
      1);
  // Another key does not verify the checkpoint.
  auto other = audit::CheckpointVerifier::fromPem(*audit::Signer::generatePem());
  auto wrong_key = audit::verifyBundle(zip.body, *other, nullptr);
  ASSERT_TRUE(wrong_key);
  ASSERT_EQ(wrong_key->findings.size(), 1u);
  EXPECT_EQ(wrong_key->findings[0].rfind("checkpoint:", 0), 0u);
  EXPECT_EQ(audit::verifyBundle("not a zip", *key, nullptr).status().code(),
            ErrorCode::kInvalidArgument);
}

// Issue 26, item 10: with a TSA, each checkpoint carries an RFC 3161 token over its signed
// text, served with it and put in bundles; `audit verify --tsa-ca` and stock openssl check it,
// and a token that stamps other bytes, or a TSA outside the trusted CA, is named. A TSA that
// does not answer leaves the checkpoint unstamped, not missing.
TEST_F(DocumentApiTest, CheckpointsAreTimestampedByTheTsa) {
  const std::string irene = login("irene_molina");
  const std::string marta = login("marta_rivas");
  auto start = [&](const std::string& key) {
    HttpResponse r = call(
        "POST", "/api/v1/instances", irene,
        json::dump(json::Value(json::Object{{"definition", "recepcion"}, {"business_key", key}})));
    EXPECT_EQ(r.status, 201) << r.body;
    return body(r).find("id")->asString();
  };
  const std::string id = start("UAC-2024-101");
  const auto stamp = timestampStamp(
      timestampAuthority("http://127.0.0.1:" + std::to_string(tsa_->port()) + "/tsa"));
  auto first = audit::checkpointLedger(*store_, *signer_, clock_.nowMs(), stamp);
  ASSERT_TRUE(first && first->has_value()) << first.status().toString();
  const audit::Checkpoint cp = **first;
  ASSERT_FALSE(cp.timestamp.empty());

  // Served with the checkpoint; stock openssl verifies it over the signed text.
  HttpResponse served = call("GET", "/api/v1/audit/checkpoint", marta);
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(body(served).find("timestamp")->asString(), audit::toHex(cp.timestamp));
  writeBytes(pki_.file("cp.txt"), audit::signedText(cp));
  writeBytes(pki_.file("cp.tst"), cp.timestamp);
  EXPECT_EQ(
      shell("openssl ts -verify -data " + pki_.file("cp.txt") + " -in " + pki_.file("cp.tst") +
            " -token_in -CAfile " + pki_.file("ca.pem") + " > /dev/null 2>&1"),
      0);

  // The verifier checks each token against the TSA's CA.
  auto ca = signing::TrustStore::fromPem(pki_.pem("ca"));
  auto rogue = signing::TrustStore::fromPem(pki_.pem("rogue-ca"));
  ASSERT_TRUE(ca && rogue);
  const audit::TimestampCheck by_ca = audit::timestampsCheckedBy(*ca);
  const audit::TimestampCheck by_rogue = audit::timestampsCheckedBy(*rogue);
  auto key = audit::CheckpointVerifier::fromPem(signer_->publicKeyPem());
  auto report = audit::verifyLedger(*store_, &*key, nullptr, &by_ca);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok()) << report->findings.front().message;
  EXPECT_EQ(report->stamped, 1u);
  EXPECT_EQ(report->timestamped, 1u);
  report = audit::verifyLedger(*store_, &*key, nullptr, &by_rogue);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].kind, "timestamp");
  EXPECT_NE(report->findings[0].message.find("does not verify against the trust store"),
            std::string::npos)
      << report->findings[0].message;

  // A token of another checkpoint, passed off as this one's, is named.
  start("UAC-2024-102");
  clock_.advance(1000);
  auto second = audit::checkpointLedger(
      *store_, *signer_, clock_.nowMs(),
      [&](const std::string&) -> Result<std::string> { return cp.timestamp; });
  ASSERT_TRUE(second && second->has_value());
  report = audit::verifyLedger(*store_, &*key, nullptr, &by_ca);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].message,
            "checkpoint of " + std::to_string((*second)->size) +
                " entries: its TSA timestamp does not verify: timestamp: the token stamps "
                "other data");

  // A TSA that does not answer: the checkpoint is made all the same, without a token.
  start("UAC-2024-103");
  auto unanswered =
      audit::checkpointLedger(*store_, *signer_, clock_.nowMs(),
                              timestampStamp(timestampAuthority("http://127.0.0.1:1/tsa", 500)));
  ASSERT_TRUE(unanswered && unanswered->has_value());
  EXPECT_TRUE((*unanswered)->timestamp.empty());

  // The CLI: without --tsa-ca it says what it did not check; with it, the forged token fails.
  const std::string cli = std::string(TRAMITE_BINARY) +
                          " audit verify --store sqlite:" + pki_.file("t.db") + " --key " +
                          pki_.file("ledger.key.pub");
  EXPECT_EQ(shell(cli + " > " + pki_.file("verify.txt")), 0);
  EXPECT_NE(readBytes(pki_.file("verify.txt")).find("2 carry a TSA timestamp (not checked"),
            std::string::npos)
      << readBytes(pki_.file("verify.txt"));
  EXPECT_EQ(shell(cli + " --tsa-ca " + pki_.file("ca.pem") + " > " + pki_.file("verify.txt")), 1);
  EXPECT_NE(readBytes(pki_.file("verify.txt")).find("the token stamps other data"),
            std::string::npos)
      << readBytes(pki_.file("verify.txt"));

  // A bundle made with the stamp carries the token; its offline check verifies it.
  ApiOptions options;
  options.token_secret = std::string(32, 'k');
  options.ledger_signer = signer_;
  options.checkpoint_stamp = stamp;
  Api stamping(engine_, store_, clock_, options);
  start("UAC-2024-104");
  HttpRequest get;
  get.method = "GET";
  get.path = "/api/v1/instances/" + id + "/bundle";
  get.headers["authorization"] = "Bearer " + marta;
  HttpResponse zip = stamping.handle(get);
  ASSERT_EQ(zip.status, 200) << zip.body;
  auto bundled = audit::verifyBundle(zip.body, *key, &*ca);
  ASSERT_TRUE(bundled);
  EXPECT_TRUE(bundled->ok()) << bundled->findings.front();
  EXPECT_GT(bundled->checkpoint_timestamp, 0);
  writeBytes(pki_.file("stamped.zip"), zip.body);
  EXPECT_EQ(shell("cd " + pki_.path() +
                  " && rm -rf stamped && mkdir stamped && cd stamped && "
                  "unzip -q ../stamped.zip && openssl ts -verify -data checkpoint.txt -in "
                  "checkpoint.tst -token_in -CAfile ../ca.pem > /dev/null 2>&1"),
            0);
}

TEST_F(DocumentApiTest, LedgerRoutesServeCheckpointsAndProofs) {
  const std::string marta = login("marta_rivas");
  const std::string irene = login("irene_molina");
  EXPECT_EQ(call("GET", "/api/v1/audit/checkpoint", marta).status, 404);  // none signed yet
  ASSERT_TRUE(audit::checkpointLedger(*store_, *signer_, clock_.nowMs()));
  HttpResponse cp = call("GET", "/api/v1/audit/checkpoint", marta);
  ASSERT_EQ(cp.status, 200) << cp.body;
  const json::Value c = body(cp);
  const std::int64_t size = c.find("size")->asInt();
  ASSERT_GT(size, 1);
  auto checkpoint = audit::checkpointFromJson(c);
  ASSERT_TRUE(checkpoint) << checkpoint.status().toString();
  EXPECT_TRUE(audit::CheckpointVerifier::fromPem(signer_->publicKeyPem())->verify(*checkpoint));
  HttpResponse inc = call("GET", "/api/v1/audit/proofs/inclusion", marta, "", "",
                          {{"index", "1"}, {"size", std::to_string(size)}});
  ASSERT_EQ(inc.status, 200) << inc.body;
  const json::Value p = body(inc);
  std::vector<audit::Hash> path;
  for (const json::Value& h : p.find("path")->asArray())
    path.push_back(*audit::hashFromHex(h.asString()));
  EXPECT_TRUE(audit::verifyInclusion(*audit::hashFromHex(p.find("leaf_hash")->asString()), 1,
                                     static_cast<std::uint64_t>(size), path, checkpoint->root));
  HttpResponse cons = call("GET", "/api/v1/audit/proofs/consistency", marta, "", "",
                           {{"first", "1"}, {"second", std::to_string(size)}});
  EXPECT_EQ(cons.status, 200) << cons.body;
  EXPECT_EQ(
      call("GET", "/api/v1/audit/proofs/inclusion", marta, "", "", {{"index", "999999"}}).status,
      400);
  EXPECT_EQ(call("GET", "/api/v1/audit/checkpoint", irene).status, 403);  // monitors only
}

}  // namespace
}  // namespace tramite::api
