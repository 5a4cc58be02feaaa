// `tramite audit`: verify a store's ledger offline, sign a checkpoint, make a signing key.
#include <algorithm>
#include <chrono>
#include <map>
#include <ostream>

#include "commands.h"
#include "tramite/file.h"
#include "tramite/ledger/bundle.h"
#include "tramite/ledger/ledger.h"

namespace tramite::cli {

namespace {

constexpr const char* kAuditUsage =
    "usage:\n"
    "  tramite audit verify (--store URI | --data-dir DIR) [--key PUBLIC.pem]\n"
    "                       [--witness RECORD | --trusted SIZE:ROOT] [--tsa-ca CA.pem]\n"
    "  tramite audit witness (--store URI | --data-dir DIR) --key PUBLIC.pem --record RECORD\n"
    "  tramite audit checkpoint (--store URI | --data-dir DIR) --key PRIVATE.pem\n"
    "  tramite audit keygen --out PRIVATE.pem\n"
    "  tramite audit verify-bundle BUNDLE.zip --key PUBLIC.pem [--trust CA.pem]\n";

// Reports why a command could not run; its exit status (2).
int failed(std::ostream& err, const std::string& why) {
  err << "tramite audit: " << why << "\n";
  return 2;
}

// Options (from args[first] on) as name -> value; every option takes a value.
Result<std::map<std::string, std::string>> options(const std::vector<std::string>& args,
                                                   std::size_t first) {
  std::map<std::string, std::string> out;
  for (std::size_t i = first; i < args.size(); i += 2) {
    if (args[i].rfind("--", 0) != 0 || i + 1 >= args.size()) {
      return Status(ErrorCode::kInvalidArgument, "option " + args[i] + " needs a value");
    }
    out[args[i].substr(2)] = args[i + 1];
  }
  return out;
}

Result<std::unique_ptr<storage::Store>> openFrom(const std::map<std::string, std::string>& o) {
  std::string uri;
  if (auto it = o.find("store"); it != o.end()) uri = it->second;
  if (auto it = o.find("data-dir"); it != o.end()) uri = storage::dataDirStoreUri(it->second);
  if (uri.empty()) return Status(ErrorCode::kInvalidArgument, "give --store or --data-dir");
  return storage::openStore(uri);
}

std::string fingerprint(const audit::Checkpoint& c) {
  return std::to_string(c.size) + " entries, root " + audit::toHex(c.root) + ", key " + c.key_id;
}

int verify(const std::map<std::string, std::string>& o, std::ostream& out, std::ostream& err) {
  std::optional<audit::CheckpointVerifier> key;
  if (auto it = o.find("key"); it != o.end()) {
    auto k = parseFile(it->second, "key file", audit::CheckpointVerifier::fromPem);
    if (!k) return failed(err, k.status().message());
    key = *k;
  }
  // A checkpoint kept apart from the database: the last one a witness recorded, or one given.
  std::optional<audit::TrustedCheckpoint> trusted;
  if (auto it = o.find("witness"); it != o.end()) {
    auto last = audit::lastWitnessed(it->second);
    if (!last) return failed(err, last.status().message());
    trusted = *last;
  } else if (auto given = o.find("trusted"); given != o.end()) {
    const std::string& text = given->second;
    const std::size_t colon = text.find(':');
    const std::string size = text.substr(0, colon);
    auto root = colon == std::string::npos ? Result<audit::Hash>(ErrorCode::kInvalidArgument, "")
                                           : audit::hashFromHex(text.substr(colon + 1));
    if (!root || size.empty() || size.size() > 19 ||
        !std::all_of(size.begin(), size.end(), ::isdigit)) {
      return failed(err, "--trusted is SIZE:ROOT (a size in decimal, a root in 64 hex digits)");
    }
    trusted = audit::TrustedCheckpoint{std::stoull(size), *root};
  }
  // The checkpoints' TSA timestamps, checked against the TSA's CA when given.
  std::optional<signing::TrustStore> tsa_ca;
  if (auto it = o.find("tsa-ca"); it != o.end()) {
    auto ca = parseFile(it->second, "TSA CA file", signing::TrustStore::fromPem);
    if (!ca) return failed(err, ca.status().message());
    tsa_ca = *ca;
  }
  const audit::TimestampCheck check_timestamp =
      tsa_ca ? audit::timestampsCheckedBy(*tsa_ca) : audit::TimestampCheck();
  auto store = openFrom(o);
  if (!store) return failed(err, store.status().message());
  const auto t0 = std::chrono::steady_clock::now();
  auto report = audit::verifyLedger(**store, key ? &*key : nullptr, trusted ? &*trusted : nullptr,
                                    tsa_ca ? &check_timestamp : nullptr);
  if (!report) return failed(err, report.status().message());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (report->ok()) {
    out << "ok: " << report->entries << " entries and " << report->checkpoints
        << " checkpoints verified" << (key ? "" : " (signatures not checked: no --key)")
        << (report->stamped == 0 ? std::string()
            : tsa_ca             ? "; " + std::to_string(report->timestamped) +
                           " timestamped by the TSA, each verified"
                     : "; " + std::to_string(report->stamped) +
                           " carry a TSA timestamp (not checked: give --tsa-ca)")
        << (trusted ? "; the first " + std::to_string(trusted->size) +
                          " entries still have the trusted root"
                    : std::string(" (no trusted checkpoint: a rewrite re-signed with the key "
                                  "would pass; give --witness or --trusted)"))
        << " in " << seconds << " s\n";
    return 0;
  }
  out << "TAMPERED: " << report->findings.size() << " problem(s); the first:\n  "
      << report->findings.front().message << "\n";
  for (std::size_t i = 1; i < report->findings.size(); ++i) {
    out << "  " << report->findings[i].message << "\n";
  }
  return 1;
}

int witness(const std::map<std::string, std::string>& o, std::ostream& out, std::ostream& err) {
  auto key_file = o.find("key");
  auto record = o.find("record");
  if (key_file == o.end() || record == o.end()) {
    err << "tramite audit witness: give --key PUBLIC.pem and --record RECORD\n";
    return 2;
  }
  auto key = parseFile(key_file->second, "key file", audit::CheckpointVerifier::fromPem);
  if (!key) return failed(err, key.status().message());
  auto store = openFrom(o);
  if (!store) return failed(err, store.status().message());
  auto seen = audit::witnessCheckpoint(**store, *key, record->second);
  if (!seen) {
    if (seen.status().code() != ErrorCode::kFailedPrecondition) {
      return failed(err, seen.status().message());
    }
    out << "TAMPERED: " << seen.status().message() << "\n";
    return 1;
  }
  out << "witnessed: " << fingerprint(seen->checkpoint);
  if (seen->previous > 0) {
    out << "; consistent with the " << seen->previous << " entries witnessed before";
  }
  out << "\n";
  return 0;
}

int checkpoint(const std::map<std::string, std::string>& o, std::ostream& out, std::ostream& err) {
  auto it = o.find("key");
  if (it == o.end()) {
    err << "tramite audit checkpoint: give --key PRIVATE.pem\n";
    return 2;
  }
  auto signer = parseFile(it->second, "key file", audit::Signer::fromPem);
  if (!signer) return failed(err, signer.status().message());
  auto store = openFrom(o);
  if (!store) return failed(err, store.status().message());
  auto cp = audit::checkpointLedger(**store, *signer, SystemClock().nowMs());
  if (!cp) return failed(err, cp.status().message());
  if (!*cp) {
    out << "the ledger is empty: nothing to sign\n";
  } else {
    out << "checkpoint: " << fingerprint(**cp) << "\n";
  }
  return 0;
}

int keygen(const std::map<std::string, std::string>& o, std::ostream& out, std::ostream& err) {
  auto it = o.find("out");
  if (it == o.end()) {
    err << "tramite audit keygen: give --out PRIVATE.pem\n";
    return 2;
  }
  auto pem = audit::Signer::generatePem();
  if (!pem) return failed(err, pem.status().message());
  if (Status st = writeNewPrivateFile(it->second, *pem); !st) return failed(err, st.message());
  out << audit::Signer::fromPem(*pem)->publicKeyPem();
  return 0;
}

int verifyBundle(const std::string& path, const std::map<std::string, std::string>& o,
                 std::ostream& out, std::ostream& err) {
  auto it = o.find("key");
  if (it == o.end()) {
    err << "tramite audit verify-bundle: give --key PUBLIC.pem (the ledger's public key)\n";
    return 2;
  }
  auto key = parseFile(it->second, "key file", audit::CheckpointVerifier::fromPem);
  if (!key) return failed(err, key.status().message());
  std::optional<signing::TrustStore> trust;
  if (auto t = o.find("trust"); t != o.end()) {
    auto loaded = parseFile(t->second, "trust store", signing::TrustStore::fromPem);
    if (!loaded) return failed(err, loaded.status().message());
    trust = std::move(loaded).value();
  }
  auto bytes = readFile(path, "bundle");
  if (!bytes) return failed(err, bytes.status().message());
  auto report = audit::verifyBundle(*bytes, *key, trust ? &*trust : nullptr);
  if (!report) return failed(err, path + ": " + report.status().message());
  if (report->ok()) {
    out << "ok: " << report->entries << " ledger entries proved against the checkpoint of "
        << report->checkpoint_size << " entries; " << report->documents << " documents and "
        << report->signatures << " signatures match"
        << (trust ? "" : " (signer certificates not checked: no --trust)") << "\n";
    return 0;
  }
  out << "TAMPERED: " << report->findings.size() << " problem(s):\n";
  for (const std::string& f : report->findings) out << "  " << f << "\n";
  return 1;
}

}  // namespace

int auditCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const bool bundle = !args.empty() && args[0] == "verify-bundle";
  if (bundle && args.size() < 2) {
    err << "tramite audit verify-bundle: give the bundle file\n" << kAuditUsage;
    return 2;
  }
  auto o = options(args, bundle ? 2 : 1);
  if (args.empty() || !o) {
    err << "tramite audit: " << (o ? "give a subcommand" : o.status().message()) << "\n"
        << kAuditUsage;
    return 2;
  }
  if (args[0] == "verify") return verify(*o, out, err);
  if (args[0] == "checkpoint") return checkpoint(*o, out, err);
  if (args[0] == "witness") return witness(*o, out, err);
  if (args[0] == "keygen") return keygen(*o, out, err);
  if (bundle) return verifyBundle(args[1], *o, out, err);
  err << "tramite audit: unknown subcommand '" << args[0] << "'\n" << kAuditUsage;
  return 2;
}

}  // namespace tramite::cli
