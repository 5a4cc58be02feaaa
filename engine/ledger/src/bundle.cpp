#include "tramite/ledger/bundle.h"

#include <Poco/DateTime.h>
#include <Poco/Exception.h>
#include <Poco/Timestamp.h>
#include <Poco/Zip/Compress.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>

#include <map>
#include <set>
#include <sstream>

#include "tramite/audit/entry.h"
#include "tramite/audit/json_forms.h"
#include "tramite/ledger/ledger.h"

namespace tramite::audit {

namespace {

constexpr std::uint64_t kMaxBundleBytes = 4ull << 30;  // uncompressed, all entries together

// A name safe inside a zip path: [A-Za-z0-9._-], others become '_'.
std::string safeName(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || out[0] == '.') out.insert(0, "_");
  return out;
}

std::string extensionOf(const std::string& content_type) {
  static const std::map<std::string, std::string> known = {
      {"application/pdf", ".pdf"},
      {"image/png", ".png"},
      {"image/jpeg", ".jpg"},
      {"text/plain", ".txt"},
      {"text/html", ".html"},
      {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"},
      {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"},
      {"application/vnd.oasis.opendocument.text", ".odt"}};
  auto it = known.find(content_type.substr(0, content_type.find(';')));
  return it == known.end() ? ".bin" : it->second;
}

const std::string& str(const json::Value& v, const char* key) {
  static const std::string empty;
  const json::Value* m = v.isObject() ? v.find(key) : nullptr;
  return m && m->isString() ? m->asString() : empty;
}

std::int64_t num(const json::Value& v, const char* key, std::int64_t fallback = -1) {
  const json::Value* m = v.isObject() ? v.find(key) : nullptr;
  return m && m->isInt() ? m->asInt() : fallback;
}

const json::Array& arr(const json::Value& v, const char* key) {
  static const json::Array empty;
  const json::Value* m = v.isObject() ? v.find(key) : nullptr;
  return m && m->isArray() ? m->asArray() : empty;
}

class ZipWriter {
 public:
  explicit ZipWriter(TimePoint at)
      : zip_(out_, true),
        when_(Poco::Timestamp(static_cast<Poco::Timestamp::TimeVal>(at) * 1000)) {}
  void add(const std::string& path, const std::string& bytes) {
    std::istringstream in(bytes);
    zip_.addFile(in, when_, Poco::Path(path, Poco::Path::PATH_UNIX),
                 Poco::Zip::ZipCommon::CM_DEFLATE, Poco::Zip::ZipCommon::CL_NORMAL);
  }
  std::string finish() {
    zip_.close();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  Poco::Zip::Compress zip_;
  Poco::DateTime when_;
};

const char* kReadme =
    "Expediente bundle (Tramite). Check it offline:\n"
    "\n"
    "  tramite audit verify-bundle THIS.zip --key ledger.key.pub [--trust ca.pem]\n"
    "\n"
    "or with stock tools, after unzipping:\n"
    "\n"
    "  sha256sum -c SHA256SUMS          # every document and signature file\n"
    "  openssl pkeyutl -verify -pubin -inkey YOUR-COPY-OF-ledger.key.pub -rawin \\\n"
    "      -in checkpoint.txt -sigfile checkpoint.sig   # the signed checkpoint\n"
    "  openssl ts -verify -data checkpoint.txt -in checkpoint.tst -token_in \\\n"
    "      -CAfile tsa-ca.pem   # its TSA timestamp (RFC 3161), when checkpoint.tst is here\n"
    "  openssl cms -verify -binary -inform DER -in signatures/NAME/FILE.p7s \\\n"
    "      -content documents/NAME/FILE -CAfile ca.pem -purpose any -out /dev/null\n"
    "\n"
    "manifest.json lists the documents and signatures; ledger.json holds every history entry\n"
    "of the expediente with its ledger index, leaf hash and inclusion proof to the checkpoint's\n"
    "root (RFC 6962 hashing; the entry bytes are described in FORMAT.md of engine/audit).\n";

}  // namespace

Result<std::string> exportBundle(runtime::Engine& engine, storage::Store& store,
                                 const std::string& instance_id, const Signer* signer,
                                 const std::string& public_key_pem, TimePoint now,
                                 const CheckpointStamp& stamp) {
  auto instance = engine.get(instance_id);
  if (!instance) return instance.status();
  if (signer) {
    auto signed_now = checkpointLedger(store, *signer, now, stamp);
    if (!signed_now) return signed_now.status();
  }
  // Documents, signatures and ledger entries from one snapshot, so every document and
  // signature listed has its ledger entry among those exported.
  auto tx = store.begin(storage::TxMode::kRead);
  if (!tx) return tx.status();
  auto checkpoint = (*tx)->latestCheckpoint();
  if (!checkpoint) return checkpoint.status();
  if (!checkpoint->has_value()) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the ledger has no signed checkpoint yet: nothing to prove entries against");
  }
  const Checkpoint& cp = **checkpoint;
  auto rows = (*tx)->ledgerRowsOf(instance_id);
  if (!rows) return rows.status();
  json::Array entries;
  json::Array history;
  for (const storage::LedgerRow& r : *rows) {
    json::Value proof;  // null: after the checkpoint
    if (r.index >= 0 && static_cast<std::uint64_t>(r.index) < cp.size) {
      auto p = proveInclusion(**tx, static_cast<std::uint64_t>(r.index), cp.size);
      if (!p) return p.status();
      proof = hashesJson(p->path);
    }
    json::Value entry(json::Object{{"instance_id", r.row.instance_id},
                                   {"at", r.row.at},
                                   {"actor", r.row.actor},
                                   {"kind", r.row.kind},
                                   {"detail", r.row.detail}});
    entries.emplace_back(json::Object{{"index", r.index},
                                      {"seq", r.row.seq},
                                      {"leaf_hash", r.leaf_hash},
                                      {"entry", std::move(entry)},
                                      {"proof", std::move(proof)}});
    history.push_back(runtime::historyRowJson(r.row));
  }
  auto records = (*tx)->documentsOf(instance_id);
  if (!records) return records.status();
  auto signatures = (*tx)->signaturesOf(instance_id);
  if (!signatures) return signatures.status();
  tx->reset();  // a read transaction: nothing to keep
  const std::vector<runtime::DocumentView> documents =
      runtime::documentViews(std::move(records).value(), *signatures);

  ZipWriter zip(cp.signed_at);
  std::string sums;
  json::Array docs_json;
  json::Array sigs_json;
  for (const runtime::DocumentView& d : documents) {
    const storage::DocumentRecord& doc = d.document;
    auto bytes = engine.blob(doc.sha256);
    if (!bytes) return bytes.status();
    const std::string dir = safeName(doc.name) + "/";
    const std::string path =
        "documents/" + dir + "v" + std::to_string(doc.version) + "-" +
        safeName(doc.filename.empty() ? doc.name + extensionOf(doc.content_type) : doc.filename);
    zip.add(path, *bytes);
    sums += doc.sha256 + "  " + path + "\n";
    json::Value dj = d.toJson();
    dj.set("file", path);
    json::Array sig_files;
    for (const storage::SignatureRecord& s : d.signatures) {
      auto p7s = engine.blob(s.p7s_sha256);
      if (!p7s) return p7s.status();
      const std::string spath = "signatures/" + dir + "v" + std::to_string(doc.version) + "-" +
                                safeName(s.signer) + "-" + s.id.substr(s.id.size() - 8) + ".p7s";
      zip.add(spath, *p7s);
      sums += s.p7s_sha256 + "  " + spath + "\n";
      json::Value sj = runtime::signatureJson(s);
      sj.set("file", spath);
      sj.set("document_file", path);
      sigs_json.push_back(std::move(sj));
      sig_files.emplace_back(spath);
    }
    dj.set("signatures", json::Value(std::move(sig_files)));
    docs_json.push_back(std::move(dj));
  }
  json::Value manifest(json::Object{{"format", "tramite-expediente-bundle-1"},
                                    {"exported_at", now},
                                    {"instance", instance->toJson()},
                                    {"documents", json::Value(std::move(docs_json))},
                                    {"signatures", json::Value(std::move(sigs_json))}});
  json::Value ledger(json::Object{{"checkpoint", checkpointJson(cp)},
                                  {"entries", json::Value(std::move(entries))}});
  zip.add("README.txt", kReadme);
  zip.add("manifest.json", json::dump(manifest));
  zip.add("history.json", json::dump(json::Value(std::move(history))));
  zip.add("ledger.json", json::dump(ledger));
  zip.add("checkpoint.txt", signedText(cp));
  auto raw_sig = bytesFromHex(cp.signature);
  if (raw_sig) zip.add("checkpoint.sig", *raw_sig);
  if (!cp.timestamp.empty()) zip.add("checkpoint.tst", cp.timestamp);
  if (!public_key_pem.empty()) zip.add("ledger.key.pub", public_key_pem);
  zip.add("SHA256SUMS", sums);
  return zip.finish();
}

// ---- verification ------------------------------------------------------------------------

namespace {

Result<std::map<std::string, std::string>> unzip(const std::string& zip) {
  std::map<std::string, std::string> files;
  try {
    std::istringstream in(zip);
    Poco::Zip::ZipArchive archive(in);
    std::uint64_t total = 0;
    for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
      if (it->second.isDirectory()) continue;
      total += it->second.getUncompressedSize();
      if (total > kMaxBundleBytes) {
        return Status(ErrorCode::kInvalidArgument, "the bundle expands beyond 4 GiB");
      }
      in.clear();
      Poco::Zip::ZipInputStream entry(in, it->second, true);
      // Never more than the header declares (plus one byte to notice a lie): a forged size
      // cannot make the check inflate more than the bundle's limit.
      const std::size_t declared = it->second.getUncompressedSize();
      std::string bytes;
      char buf[65536];
      while (entry && bytes.size() <= declared) {
        entry.read(buf, sizeof buf);
        bytes.append(buf, static_cast<std::size_t>(entry.gcount()));
      }
      if (bytes.size() != declared) {
        return Status(ErrorCode::kInvalidArgument,
                      "zip entry " + it->first + " does not hold the size its header declares");
      }
      files[it->first] = std::move(bytes);
    }
  } catch (const Poco::Exception& e) {
    return Status(ErrorCode::kInvalidArgument, "not a readable zip: " + e.displayText());
  }
  return files;
}

}  // namespace

Result<BundleReport> verifyBundle(const std::string& zip, const CheckpointVerifier& key,
                                  const signing::TrustStore* trust) {
  auto files = unzip(zip);
  if (!files) return files.status();
  auto file = [&](const std::string& name) -> const std::string* {
    auto it = files->find(name);
    return it == files->end() ? nullptr : &it->second;
  };
  const std::string* manifest_text = file("manifest.json");
  const std::string* ledger_text = file("ledger.json");
  if (!manifest_text || !ledger_text) {
    return Status(ErrorCode::kInvalidArgument,
                  "not a bundle: manifest.json or ledger.json missing");
  }
  auto manifest = json::parse(*manifest_text);
  auto ledger = json::parse(*ledger_text);
  if (!manifest || !ledger || !manifest->isObject() || !ledger->isObject()) {
    return Status(ErrorCode::kInvalidArgument,
                  "not a bundle: manifest.json or ledger.json is not a JSON object");
  }
  BundleReport report;
  auto find = [&](std::string text) { report.findings.push_back(std::move(text)); };

  // The checkpoint.
  const json::Value* cpj = ledger->find("checkpoint");
  auto parsed_cp = cpj ? checkpointFromJson(*cpj)
                       : Result<Checkpoint>(ErrorCode::kInvalidArgument, "there is none");
  const Checkpoint cp = parsed_cp ? *parsed_cp : Checkpoint{};
  report.checkpoint_size = cp.size;
  if (!parsed_cp) {
    find("checkpoint: " + parsed_cp.status().message());
  } else if (!key.verify(cp)) {
    find("checkpoint: the signature does not verify with key " + key.keyId() +
         " (the checkpoint names key " + cp.key_id + ")");
  }
  if (parsed_cp && !cp.timestamp.empty() && trust) {
    auto stamp = trust->verifyTimestamp(cp.timestamp, signedText(cp));
    if (stamp) {
      report.checkpoint_timestamp = stamp->time;
    } else {
      find("checkpoint: its TSA timestamp does not verify: " + stamp.status().message());
    }
  }

  // The ledger entries: leaf hashes, proofs, and what they say about documents and signatures.
  std::set<std::string> recorded_documents;              // sha256 of "document" entries
  std::map<std::string, TimePoint> recorded_signatures;  // p7s sha256 -> entry time
  json::Array entry_rows;
  for (const json::Value& e : arr(*ledger, "entries")) {
    const std::int64_t index = num(e, "index");
    const json::Value* ej = e.find("entry");
    const std::string where =
        "ledger entry " + std::to_string(index) + " (seq " + std::to_string(num(e, "seq")) + ")";
    if (!ej) {
      find(where + ": no entry");
      continue;
    }
    const LedgerEntry entry{str(*ej, "instance_id"), num(*ej, "at", 0), str(*ej, "actor"),
                            str(*ej, "kind"), str(*ej, "detail")};
    const Hash leaf = entryLeafHash(entry);
    if (toHex(leaf) != str(e, "leaf_hash")) {
      find(where + ": altered: its content does not hash to its recorded leaf");
      continue;
    }
    const json::Value* proof = e.find("proof");
    if (!proof || !proof->isArray()) {
      find(where + ": not covered by the checkpoint (no proof)");
    } else {
      auto path = hashesFromJson(*proof);
      if (index < 0 || !path ||
          !verifyInclusion(leaf, static_cast<std::uint64_t>(index), cp.size, *path, cp.root)) {
        find(where + ": its inclusion proof does not lead to the checkpoint's root");
      } else {
        ++report.entries;
      }
    }
    auto detail = json::parse(entry.detail);
    if (detail && entry.kind == "document") recorded_documents.insert(str(*detail, "sha256"));
    if (detail && entry.kind == "signature")
      recorded_signatures[str(*detail, "p7s_sha256")] = entry.at;
    entry_rows.push_back(runtime::historyRowJson(storage::HistoryRecord{
        num(e, "seq"), entry.instance_id, entry.at, entry.actor, entry.kind, entry.detail}));
  }

  // history.json says what the entries say.
  const std::string* history_text = file("history.json");
  auto history =
      history_text ? json::parse(*history_text) : Result<json::Value>(ErrorCode::kNotFound, "");
  // Compared as serialised, so even a member order or number form that differs is found.
  if (!history || json::dump(*history) != json::dump(json::Value(std::move(entry_rows)))) {
    find("history.json: differs from the ledger entries");
  }

  // Documents and signatures: bytes as the ledger recorded them.
  std::map<std::string, const std::string*> document_bytes;  // file -> bytes
  for (const json::Value& d : arr(*manifest, "documents")) {
    const std::string& path = str(d, "file");
    const std::string* bytes = file(path);
    if (!bytes) {
      find("document " + path + ": missing from the bundle");
      continue;
    }
    const std::string digest = sha256Hex(*bytes);
    if (digest != str(d, "sha256")) {
      find("document " + path + ": its bytes do not match the manifest's SHA-256");
    } else if (recorded_documents.count(digest) == 0) {
      find("document " + path + ": no ledger entry records these bytes");
    } else {
      ++report.documents;
      document_bytes[path] = bytes;
    }
  }
  for (const json::Value& s : arr(*manifest, "signatures")) {
    const std::string& path = str(s, "file");
    const std::string* p7s = file(path);
    if (!p7s) {
      find("signature " + path + ": missing from the bundle");
      continue;
    }
    auto recorded = recorded_signatures.find(sha256Hex(*p7s));
    if (recorded == recorded_signatures.end()) {
      find("signature " + path + ": no ledger entry records these bytes");
      continue;
    }
    auto doc = document_bytes.find(str(s, "document_file"));
    if (doc == document_bytes.end()) {
      find("signature " + path + ": its document did not check out");
      continue;
    }
    if (trust) {
      // At the time the ledger recorded it: a certificate that has expired since still
      // proves what was signed then.
      auto check = trust->verifyDetached(*p7s, *doc->second, recorded->second);
      if (!check) {
        find("signature " + path + ": " + check.status().message());
        continue;
      }
    }
    ++report.signatures;
  }
  return report;
}

}  // namespace tramite::audit
