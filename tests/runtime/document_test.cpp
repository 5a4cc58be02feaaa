// Documents, signatures and <w:requires> through the engine, against both stores (SQLite
// with file blobs, PostgreSQL with database blobs): a rendered and sealed acta, signatures
// made by stock `openssl cms -sign` and timestamped by `openssl ts`, the refusals that name
// what is missing, and the upload checks.
#include <gtest/gtest.h>

#include <map>

#include "pg_server.h"
#include "pki.h"
#include "test_files.h"
#include "tramite/runtime/directory.h"
#include "tramite/runtime/engine.h"

namespace tramite::runtime {
namespace {

using testing::readBytes;
using testing::readSourceFile;
using testing::shell;
using testing::writeBytes;

const char* kApertura = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml"
    xmlns:w="urn:tramite:workflow:1" version="1.0" datamodel="lua" name="apertura">
  <datamodel>
    <data id="proceso_compra" expr="'Licitación pública LP-04/2024'"/>
    <data id="objeto" expr="'Suministro de equipo informático'"/>
    <data id="ofertas" expr="{}"/>
  </datamodel>
  <state id="apertura">
    <onentry>
      <w:render template="acta-apertura-ofertas" document="acta_apertura_ofertas"/>
      <send event="cerrar" delay="60s"/>
    </onentry>
    <w:requires document="acta_apertura_ofertas">
      <w:signed-by roles="abogado" count="2"/>
    </w:requires>
    <transition event="cerrar" target="evaluacion"/>
  </state>
  <state id="evaluacion">
    <transition event="adjudicar" target="fin">
      <w:requires document="informe_evaluacion">
        <w:signed-by roles="gerente_compras" rule="all"/>
      </w:requires>
    </transition>
  </state>
  <final id="fin"/>
  <w:accepts event="cerrar" roles="analista_compras"/>
  <w:accepts event="adjudicar" roles="analista_compras"/>
</scxml>)";

class DocumentTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = testing::freshStoreUri(GetParam(), "documents");
    if (uri_.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
    auto store = storage::openStore(uri_);
    ASSERT_TRUE(store) << store.status().toString();
    EngineOptions options;
    if (GetParam() == "sqlite") options.blobs = storage::filesystemBlobStore(pki_.file("blobs"));
    options.documents.max_bytes = 64 * 1024;
    auto trust = signing::TrustStore::fromPem(pki_.pem("ca"));
    ASSERT_TRUE(trust) << trust.status().toString();
    options.trust_store = std::make_shared<const signing::TrustStore>(*trust);
    auto seal = signing::Sealer::fromPem(pki_.pem("seal"), pki_.key("seal"));
    ASSERT_TRUE(seal) << seal.status().toString();
    options.seal = std::make_shared<const signing::Sealer>(*seal);
    options.templates["acta-apertura-ofertas"] =
        readSourceFile("templates/acta-apertura-ofertas.mustache");
    // The TSA: stock `openssl ts -reply` (the HTTP transport is the server's).
    options.timestamp_authority = [this](const std::string& query) -> Result<std::string> {
      ++stamps_;
      writeBytes(pki_.file("q.tsq"), query);
      if (shell("openssl ts -reply -config " + pki_.file("tsa.cnf") + " -queryfile " +
                pki_.file("q.tsq") + " -out " + pki_.file("r.tsr") + " 2>/dev/null") != 0) {
        return Status(ErrorCode::kUnavailable, "openssl ts failed");
      }
      return readBytes(pki_.file("r.tsr"));
    };
    clock_.set(static_cast<TimePoint>(::time(nullptr)) * 1000);  // the certificates' time
    engine_ = std::make_unique<Engine>(std::shared_ptr<storage::Store>(std::move(store).value()),
                                       clock_, options);
    auto dir = loadDirectoryFile(std::string(TRAMITE_SOURCE_DIR) + "/config/directory.json");
    ASSERT_TRUE(dir) << dir.status().toString();
    ASSERT_TRUE(engine_->importDirectory(*dir));
    auto deployed = engine_->deploy("apertura", kApertura, "admin");
    ASSERT_TRUE(deployed) << deployed.status().toString();
  }

  InstanceView start(const std::string& business_key = "UCP-LP-04-2024") {
    StartRequest req;
    req.definition = "apertura";
    req.business_key = business_key;
    req.actor = "gabriela_ortiz";
    req.data = json::Value(json::Object{
        {"ofertas",
         json::Value(json::Array{
             json::Value(json::Object{
                 {"oferente", "Compu <S.A.>"}, {"monto", 12500.5}, {"garantia", true}}),
             json::Value(json::Object{
                 {"oferente", "Datos y Redes"}, {"monto", 13100}, {"garantia", false}})})}});
    auto v = engine_->start(req);
    EXPECT_TRUE(v) << v.status().toString();
    return v ? *v : InstanceView{};
  }
  // The latest version of a named document of an instance.
  DocumentView latest(const std::string& instance, const std::string& name) {
    auto docs = engine_->documents(instance);
    EXPECT_TRUE(docs) << docs.status().toString();
    DocumentView out;
    for (const DocumentView& d : *docs) {
      if (d.document.name == name) out = d;
    }
    return out;
  }
  // who's detached signature (openssl cms -sign) over a document version's bytes.
  std::string signedBy(const std::string& who, const DocumentView& doc) {
    auto bytes = engine_->blob(doc.document.sha256);
    EXPECT_TRUE(bytes) << bytes.status().toString();
    writeBytes(pki_.file("doc.bin"), *bytes);
    return pki_.opensslSign(who, pki_.file("doc.bin"));
  }
  std::string refusal(const Status& st) { return st ? "accepted" : st.message(); }
  template <typename T>
  std::string refusal(const Result<T>& r) {
    return r ? "accepted" : r.status().message();
  }
  Result<InstanceView> send(const std::string& id, const std::string& event) {
    return engine_->send(id, scxml::Event::external(event), "gabriela_ortiz");
  }
  Result<DocumentView> upload(const std::string& instance, const std::string& name,
                              const std::string& type, const std::string& bytes) {
    return engine_->attachDocument(
        DocumentUpload{instance, name, "", type, name + ".pdf", bytes, "gabriela_ortiz"});
  }

  testing::Pki pki_;
  std::string uri_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
  int stamps_ = 0;
};

TEST_P(DocumentTest, RendersSealsAndHoldsTheProcessUntilTheSignaturesAreThere) {
  InstanceView inst = start();
  // The acta was rendered from the instance's data and sealed on entry.
  DocumentView acta = latest(inst.id, "acta_apertura_ofertas");
  ASSERT_EQ(acta.document.version, 1);
  EXPECT_EQ(acta.document.origin, "template");
  auto html = engine_->blob(acta.document.sha256);
  ASSERT_TRUE(html);
  EXPECT_NE(html->find("UCP-LP-04-2024"), std::string::npos);
  EXPECT_NE(html->find("Compu &lt;S.A.&gt;"), std::string::npos);  // escaped, not markup
  EXPECT_NE(html->find("Suministro de equipo inform"), std::string::npos);
  ASSERT_EQ(acta.signatures.size(), 1u);
  EXPECT_EQ(acta.signatures[0].signer, "seal");
  // The seal verifies with stock openssl over the stored bytes.
  auto seal = engine_->blob(acta.signatures[0].p7s_sha256);
  ASSERT_TRUE(seal);
  writeBytes(pki_.file("acta.html"), *html);
  writeBytes(pki_.file("acta.p7s"), *seal);
  EXPECT_EQ(shell("openssl cms -verify -binary -inform DER -in " + pki_.file("acta.p7s") +
                  " -content " + pki_.file("acta.html") + " -CAfile " + pki_.file("ca.pem") +
                  " -purpose any -out /dev/null 2>/dev/null"),
            0);

  // The delayed "cerrar" fires while the acta is unsigned: consumed, refused, recorded.
  clock_.advance(61'000);
  auto fired = engine_->fireDueTimers();
  ASSERT_TRUE(fired) << fired.status().toString();
  EXPECT_EQ(*fired, 1);
  auto next = engine_->nextTimerDue();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->has_value());
  auto history = engine_->history(inst.id);
  ASSERT_TRUE(history);
  EXPECT_EQ(history->back().kind, "refused");
  EXPECT_NE(history->back().detail.find("needs 2 signatures by abogado, has 0"), std::string::npos)
      << history->back().detail;

  // An event from a user is refused with what is missing.
  auto refused = send(inst.id, "cerrar");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refusal(refused),
            "cannot leave state 'apertura': 'acta_apertura_ofertas' v1 needs 2 signatures by "
            "abogado, has 0");

  // Only the signer records her signature (issue 26, item 6).
  const std::string by_ana = signedBy("ana", acta);
  EXPECT_EQ(engine_->addSignature(acta.document.id, by_ana, "gabriela_ortiz").status().code(),
            ErrorCode::kPermissionDenied);
  auto ana = engine_->addSignature(acta.document.id, by_ana, "ana_lopez");
  ASSERT_TRUE(ana) << ana.status().toString();
  EXPECT_EQ(ana->signer, "ana_lopez");
  EXPECT_NE(ana->timestamp_at, 0);  // stamped by the TSA
  EXPECT_EQ(stamps_, 1);
  EXPECT_EQ(refusal(send(inst.id, "cerrar")),
            "cannot leave state 'apertura': 'acta_apertura_ofertas' v1 needs 2 signatures by "
            "abogado, has 1 (ana_lopez)");
  auto again = engine_->addSignature(acta.document.id, signedBy("ana", acta), "ana_lopez");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict);
  ASSERT_TRUE(engine_->addSignature(acta.document.id, signedBy("elena", acta), "elena_castro"));
  auto moved = send(inst.id, "cerrar");
  ASSERT_TRUE(moved) << moved.status().toString();
  EXPECT_EQ(moved->configuration, std::vector<std::string>{"evaluacion"});

  // A transition's requirement: a missing document, then a missing signer.
  EXPECT_EQ(refusal(send(inst.id, "adjudicar")),
            "cannot take the transition from 'evaluacion' (line 19): document "
            "'informe_evaluacion' is missing");
  auto informe = upload(inst.id, "informe_evaluacion", "application/pdf", "%PDF-1.7\ninforme\n");
  ASSERT_TRUE(informe) << informe.status().toString();
  EXPECT_EQ(informe->document.version, 1);
  EXPECT_EQ(refusal(send(inst.id, "adjudicar")),
            "cannot take the transition from 'evaluacion' (line 19): 'informe_evaluacion' v1 "
            "needs the signature of every gerente_compras; missing: hector_ramos");
  ASSERT_TRUE(
      engine_->addSignature(informe->document.id, signedBy("hector", *informe), "hector_ramos"));
  // A new version needs its own signatures.
  auto v2 = upload(inst.id, "informe_evaluacion", "application/pdf", "%PDF-1.7\ninforme v2\n");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->document.version, 2);
  EXPECT_NE(refusal(send(inst.id, "adjudicar")).find("v2 needs the signature of every"),
            std::string::npos);
  ASSERT_TRUE(engine_->addSignature(v2->document.id, signedBy("hector", *v2), "hector_ramos"));
  auto done = send(inst.id, "adjudicar");
  ASSERT_TRUE(done) << done.status().toString();
  EXPECT_EQ(done->lifecycle, "completed");

  // Every upload and signature is in the history (and so in the ledger).
  history = engine_->history(inst.id);
  ASSERT_TRUE(history);
  int documents = 0, signatures = 0;
  for (const storage::HistoryRecord& row : *history) {
    documents += row.kind == "document";
    signatures += row.kind == "signature";
  }
  EXPECT_EQ(documents, 3);   // the rendered acta, two versions of the informe
  EXPECT_EQ(signatures, 5);  // seal, ana, elena, hector twice
  // The expediente is closed.
  EXPECT_EQ(upload(inst.id, "anexo", "application/pdf", "%PDF-1.7\n").status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST_P(DocumentTest, SignaturesAreRefusedWithTheReason) {
  InstanceView inst = start();
  auto informe = upload(inst.id, "informe", "application/pdf", "%PDF-1.7\ninforme\n");
  ASSERT_TRUE(informe) << informe.status().toString();
  const std::string id = informe->document.id;
  EXPECT_EQ(
      refusal(engine_->addSignature(id, signedBy("rogue", *informe), "x")).rfind("unknown CA:", 0),
      0u);
  EXPECT_EQ(refusal(engine_->addSignature(id, signedBy("ghost", *informe), "x")),
            "binding: the certificate is issued to 'ghost_user', who is no active user");
  const std::string other = signedBy("ana", latest(inst.id, "acta_apertura_ofertas"));
  EXPECT_EQ(refusal(engine_->addSignature(id, other, "x")).rfind("document mismatch:", 0), 0u);
  EXPECT_EQ(refusal(engine_->addSignature(id, "garbage", "x")),
            "not a DER-encoded CMS (PKCS#7) signature");
  EXPECT_EQ(engine_->addSignature("no-such-document", other, "x").status().code(),
            ErrorCode::kNotFound);
  clock_.advance(60LL * 86'400'000);  // the certificates expire after 30 days
  EXPECT_EQ(refusal(engine_->addSignature(id, signedBy("ana", *informe), "x")).rfind("expired:", 0),
            0u);
  auto docs = engine_->documents(inst.id);
  ASSERT_TRUE(docs);
  for (const DocumentView& d : *docs) {
    if (d.document.name == "informe") {
      EXPECT_TRUE(d.signatures.empty());
    }
  }
}

TEST_P(DocumentTest, UploadsAreCheckedAndVersioned) {
  InstanceView inst = start();
  const std::string pdf = "%PDF-1.7\n" + std::string(100, 'x');
  auto code = [&](const std::string& name, const std::string& type, const std::string& bytes) {
    auto r = upload(inst.id, name, type, bytes);
    return r ? std::string("ok") : std::string(errorCodeName(r.status().code()));
  };
  EXPECT_EQ(code("oferta", "application/pdf", pdf), "ok");
  EXPECT_EQ(code("oferta", "application/pdf", pdf + "2"), "ok");
  EXPECT_EQ(code("nota", "text/plain; charset=UTF-8", "Nota de remisión\n"), "ok");
  EXPECT_EQ(code("oferta", "application/pdf", "MZ\x90\x00 not a pdf"), "unsupported_media_type");
  EXPECT_EQ(code("oferta", "application/x-msdownload", "MZ"), "unsupported_media_type");
  EXPECT_EQ(code("nota", "text/plain", std::string("a\0b", 3)), "unsupported_media_type");
  EXPECT_EQ(code("oferta", "application/pdf", "%PDF-" + std::string(64 * 1024, 'x')),
            "resource_exhausted");
  EXPECT_EQ(code("Bad Name", "application/pdf", pdf), "invalid_argument");
  EXPECT_EQ(code("../etc", "application/pdf", pdf), "invalid_argument");
  auto missing = engine_->attachDocument(
      DocumentUpload{"no-such-instance", "oferta", "", "application/pdf", "", pdf, "ana_lopez"});
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  auto stranger = engine_->attachDocument(
      DocumentUpload{inst.id, "oferta", "", "application/pdf", "", pdf, "nobody"});
  EXPECT_EQ(stranger.status().code(), ErrorCode::kPermissionDenied);

  auto docs = engine_->documents(inst.id);
  ASSERT_TRUE(docs);
  std::vector<std::string> seen;
  for (const DocumentView& d : *docs) {
    seen.push_back(d.document.name + "/" + std::to_string(d.document.version) + " " +
                   d.document.content_type);
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"acta_apertura_ofertas/1 text/html; charset=utf-8",
                                      "nota/1 text/plain; charset=utf-8",
                                      "oferta/1 application/pdf", "oferta/2 application/pdf"}));
  // Same bytes, one blob; each version reads back exactly.
  auto first = latest(inst.id, "oferta");
  auto bytes = engine_->blob(first.document.sha256);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, pdf + "2");
}

// Every shipped template renders from instance data (HTML-escaped) into a sealed document.
TEST_P(DocumentTest, EveryShippedTemplateRenders) {
  const char* chart = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml"
      xmlns:w="urn:tramite:workflow:1" version="1.0" datamodel="lua" name="todas">
    <state id="s"><onentry>
      <w:render template="acta-apertura-ofertas" document="apertura"/>
      <w:render template="acta-recepcion" document="recepcion"/>
      <w:render template="opinion-juridica" document="opinion" seal="false"/>
      <w:render template="acta-transferencia-documental" document="transferencia"/>
    </onentry></state>
  </scxml>)";
  EngineOptions options;
  options.seal = std::make_shared<const signing::Sealer>(
      *signing::Sealer::fromPem(pki_.pem("seal"), pki_.key("seal")));
  for (const char* name : {"acta-apertura-ofertas", "acta-recepcion", "opinion-juridica",
                           "acta-transferencia-documental"}) {
    const std::string text = readSourceFile(std::string("templates/") + name + ".mustache");
    ASSERT_FALSE(text.empty()) << name;
    options.templates[name] = text;
  }
  auto store = storage::openStore(uri_);
  ASSERT_TRUE(store);
  Engine engine(std::shared_ptr<storage::Store>(std::move(store).value()), clock_, options);
  ASSERT_TRUE(engine.deploy("todas", chart, "admin"));
  StartRequest req;
  req.definition = "todas";
  req.business_key = "UGDA-TD-2024-03";
  req.actor = "jorge_pineda";
  auto data = json::parse(R"({
    "objeto": "Mobiliario", "ofertas": [{"oferente": "Muebles <El Roble>", "monto": 900}],
    "contrato": "CD-7/2024", "contratista": "Limpieza Total", "conforme": true, "final": true,
    "entregas": [{"cantidad": 3, "descripcion": "Escritorios"}],
    "dictamen": "Procede la prórroga", "unidad": "UACI",
    "unidad_productora": "Gerencia Jurídica", "entrega": "jorge_pineda", "recibe": "archivo",
    "cajas": [{"numero": 1, "serie": "Opiniones jurídicas", "desde": "2019", "hasta": "2020",
               "folios": 250}]})");
  ASSERT_TRUE(data);
  req.data = *data;
  auto inst = engine.start(req);
  ASSERT_TRUE(inst) << inst.status().toString();
  auto docs = engine.documents(inst->id);
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 4u);
  std::map<std::string, std::string> want = {{"apertura", "Muebles &lt;El Roble&gt;"},
                                             {"recepcion", "3 × Escritorios"},
                                             {"opinion", "Procede la prórroga"},
                                             {"transferencia", "Opiniones jurídicas"}};
  for (const DocumentView& d : *docs) {
    auto html = engine.blob(d.document.sha256);
    ASSERT_TRUE(html);
    EXPECT_NE(html->find(want[d.document.name]), std::string::npos) << *html;
    EXPECT_NE(html->find("UGDA-TD-2024-03"), std::string::npos) << d.document.name;
    EXPECT_EQ(d.signatures.size(), d.document.name == "opinion" ? 0u : 1u) << d.document.name;
  }
}

// Issue 26, item 6: a signature is recorded by its signer only, and once: replayed on
// another expediente with the same bytes, it is refused.
TEST_P(DocumentTest, SignaturesAreNeitherBorrowedNorReplayed) {
  InstanceView first = start("UCP-LP-04-2024");
  InstanceView second = start("UCP-LP-05-2024");
  const std::string bytes = "%PDF-1.7\ninforme idéntico\n";
  auto mine = upload(first.id, "informe_evaluacion", "application/pdf", bytes);
  auto copy = upload(second.id, "informe_evaluacion", "application/pdf", bytes);
  ASSERT_TRUE(mine && copy);
  const std::string p7s = signedBy("hector", *mine);
  EXPECT_EQ(engine_->addSignature(mine->document.id, p7s, "gabriela_ortiz").status().code(),
            ErrorCode::kPermissionDenied);
  ASSERT_TRUE(engine_->addSignature(mine->document.id, p7s, "hector_ramos"));
  auto replayed = engine_->addSignature(copy->document.id, p7s, "hector_ramos");
  EXPECT_EQ(replayed.status().code(), ErrorCode::kConflict) << replayed.status().toString();
  EXPECT_EQ(latest(second.id, "informe_evaluacion").signatures.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, DocumentTest, ::testing::Values("sqlite", "postgresql"),
                         testing::DialectName());

}  // namespace
}  // namespace tramite::runtime
