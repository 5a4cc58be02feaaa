#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Environment.h>
#include <Poco/File.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Glob.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "tramite/api/api.h"
#include "tramite/api/basichttp.h"
#include "tramite/api/serve.h"
#include "tramite/api/server.h"
#include "tramite/api/smtp.h"
#include "tramite/api/tsa.h"
#include "tramite/audit/merkle.h"
#include "tramite/calendar/calendar.h"
#include "tramite/file.h"
#include "tramite/ledger/ledger.h"
#include "tramite/runtime/directory.h"
#include "tramite/workers/notifications.h"
#include "tramite/workers/worker_loop.h"

namespace tramite::api {

namespace {

using Poco::Util::Option;

// The session-token key of a data directory: read, or made once (32 random bytes, mode 0600).
Result<std::string> tokenSecret(const std::string& path) {
  if (Poco::File(path).exists()) {
    auto read = readFile(path, "token key file");
    if (!read) return read.status();
    if (read->size() < 32) {
      return Status(ErrorCode::kInvalidArgument, path + " holds fewer than 32 bytes");
    }
    return read;
  }
  std::string key(32, '\0');
  if (getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size())) {
    return Status(ErrorCode::kInternal, "getrandom failed");
  }
  if (Status st = writeNewPrivateFile(path, key); !st) return st;
  return key;
}

// Documents, signatures and templates: where bytes go, what uploads may be, the trust store,
// the seal, the TSA and the templates directory.
Status documentOptions(const Poco::Util::AbstractConfiguration& c, const std::string& data_dir,
                       runtime::EngineOptions& o) {
  const std::string kind = c.getString("tramite.documents.store", "filesystem");
  if (kind == "filesystem") {
    o.blobs =
        storage::filesystemBlobStore(c.getString("tramite.documents.dir", data_dir + "/documents"));
  } else if (kind == "database") {
    o.blobs = storage::databaseBlobStore();
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "tramite.documents.store is filesystem or database, not " + kind);
  }
  o.documents.max_bytes = c.getInt64("tramite.documents.max_bytes", o.documents.max_bytes);
  const std::string types = c.getString("tramite.documents.content_types", "");
  if (!types.empty()) {
    o.documents.content_types.clear();
    std::istringstream in(types);
    for (std::string t; in >> t;) o.documents.content_types.push_back(t);
  }
  const std::string trust = c.getString("tramite.signing.trust_store", "");
  if (!trust.empty()) {
    auto store = parseFile(trust, "trust store", signing::TrustStore::fromPem);
    if (!store) return store.status();
    o.trust_store = std::make_shared<const signing::TrustStore>(std::move(store).value());
  }
  const std::string seal_cert = c.getString("tramite.signing.seal_certificate", "");
  if (!seal_cert.empty()) {
    auto cert = readFile(seal_cert, "seal certificate");
    if (!cert) return cert.status();
    const std::string key_file = c.getString("tramite.signing.seal_key", "");
    auto key = readFile(key_file, "seal key");
    if (!key) return key.status();
    auto sealer = signing::Sealer::fromPem(*cert, *key);
    if (!sealer)
      return Status(sealer.status().code(), seal_cert + ": " + sealer.status().message());
    o.seal = std::make_shared<const signing::Sealer>(std::move(sealer).value());
  }
  const std::string tsa = c.getString("tramite.signing.tsa_url", "");
  if (!tsa.empty()) {
    o.timestamp_authority =
        timestampAuthority(tsa, c.getInt64("tramite.signing.tsa_timeout_ms", 10'000));
  }
  std::set<std::string> templates;
  Poco::Glob::glob(c.getString("tramite.templates", "templates") + "/*.mustache", templates);
  for (const std::string& f : templates) {
    auto text = readFile(f, "template");
    if (!text) return text.status();
    o.templates[Poco::Path(f).getBaseName()] = std::move(text).value();
  }
  return Status::ok();
}

// The ledger's checkpoint key: read, or made once (mode 0600) with its public half written
// beside it as PATH.pub for auditors (`tramite audit verify --key PATH.pub`).
Result<audit::Signer> ledgerSigner(const std::string& path) {
  if (!Poco::File(path).exists()) {
    auto pem = audit::Signer::generatePem();
    if (!pem) return pem.status();
    if (Status st = writeNewPrivateFile(path, *pem); !st) return st;
  }
  auto signer = parseFile(path, "ledger key file", audit::Signer::fromPem);
  if (!signer) return signer;
  std::ofstream(path + ".pub") << signer->publicKeyPem();
  return signer;
}

class ServeApp final : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override {
    ServerApplication::defineOptions(options);
    options.addOption(Option("help", "h", "show the options and exit"));
    options.addOption(
        Option("config", "c", "a properties file (default: config/tramite.properties)")
            .argument("FILE"));
    options.addOption(Option("listen", "l", "the address to serve on (default 127.0.0.1:8080)")
                          .argument("HOST:PORT"));
    options.addOption(
        Option("data-dir", "d", "where the SQLite store and the token key live").argument("DIR"));
    options.addOption(Option("set", "s", "sets one configuration property (repeatable)")
                          .argument("KEY=VALUE")
                          .repeatable(true));
  }

  void handleOption(const std::string& name, const std::string& value) override {
    ServerApplication::handleOption(name, value);
    if (name == "help") {
      help_ = true;
      stopOptionsProcessing();
    } else if (name == "config") {
      config_file_ = value;
    } else if (name == "listen") {
      overrides_["tramite.listen"] = value;
    } else if (name == "data-dir") {
      overrides_["tramite.data_dir"] = value;
    } else if (name == "set") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw Poco::Util::InvalidArgumentException("--set takes KEY=VALUE, not " + value);
      }
      overrides_[value.substr(0, eq)] = value.substr(eq + 1);
    }
  }

  void initialize(Application& self) override {
    // Layers, lowest priority first: defaults, the file, the environment, the command line.
    auto& c = config();
    const char* config_dir = std::getenv("TRAMITE_CONFIG_DIR");
    const std::string dir = config_dir ? config_dir : "config";
    const std::string file = config_file_.empty() ? dir + "/tramite.properties" : config_file_;
    if (Poco::File(file).exists()) {
      loadConfiguration(file, PRIO_DEFAULT);
    } else if (!config_file_.empty()) {
      throw Poco::FileNotFoundException("configuration file " + config_file_);
    }
    for (const auto& [env, key] : {std::pair{"TRAMITE_LISTEN", "tramite.listen"},
                                   {"TRAMITE_DATA_DIR", "tramite.data_dir"},
                                   {"TRAMITE_STORE", "tramite.store"},
                                   {"TRAMITE_DEMO_PASSWORD", "tramite.demo.password"}}) {
      if (const char* v = std::getenv(env)) c.setString(key, v);
    }
    for (const auto& [key, value] : overrides_) c.setString(key, value);
    ServerApplication::initialize(self);
  }

  // The data directory holds every case and the password hashes: it and everything in it
  // are the server account's alone (0700, files 0600), whatever an earlier run left.
  static Status ownerOnly(const std::string& data_dir) {
    namespace fs = std::filesystem;
    ::umask(077);  // what the server creates from now on (store, WAL, blobs, keys)
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec)
      return Status(ErrorCode::kUnavailable, "data directory " + data_dir + ": " + ec.message());
    // Once the directory is private, what the server makes in it is private too (the umask):
    // its files (every document blob among them) are walked only when it was not.
    if ((fs::status(data_dir).permissions() & fs::perms::all) == fs::perms::owner_all) {
      return Status::ok();
    }
    fs::permissions(data_dir, fs::perms::owner_all, ec);
    for (auto it = fs::recursive_directory_iterator(data_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_symlink()) continue;
      fs::permissions(it->path(),
                      it->is_directory() ? fs::perms::owner_all
                                         : fs::perms::owner_read | fs::perms::owner_write,
                      ec);
    }
    if (ec)
      return Status(ErrorCode::kUnavailable, "data directory " + data_dir + ": " + ec.message());
    return Status::ok();
  }

  int main(const std::vector<std::string>&) override {
    if (help_) {
      Poco::Util::HelpFormatter help(options());
      help.setCommand("tramite serve");
      help.setUsage("[--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--daemon]");
      help.setHeader("Serves the Tramite API.");
      help.format(std::cout);
      return EXIT_OK;
    }
    Poco::AutoPtr<Poco::PatternFormatter> format(
        new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s %t"));
    Poco::AutoPtr<Poco::FormattingChannel> channel(
        new Poco::FormattingChannel(format, new Poco::ConsoleChannel(std::cerr)));
    Poco::Logger::root().setChannel(channel);
    Poco::Logger& log = Poco::Logger::get("tramite");

    Status st = serve(log);
    if (!st) {
      log.critical("cannot serve: %s", st.toString());
      return EXIT_CONFIG;
    }
    return EXIT_OK;
  }

 private:
  Status serve(Poco::Logger& log) {
    auto& c = config();
    const std::string data_dir = c.getString("tramite.data_dir", "var");
    if (Status st = ownerOnly(data_dir); !st) return st;
    const std::string store_uri = c.getString("tramite.store", storage::dataDirStoreUri(data_dir));
    storage::StoreOptions store_options;
    store_options.sqlite_pipelined_sync =
        c.getBool("tramite.store.sqlite_pipelined_sync", store_options.sqlite_pipelined_sync);
    auto store = storage::openStore(store_uri, store_options);
    if (!store) return store.status();
    std::shared_ptr<storage::Store> shared_store = std::move(store).value();

    const std::string listen = c.getString("tramite.listen", "127.0.0.1:8080");
    const bool tls = !c.getString("tramite.tls.certificate", "").empty();
    const std::string public_url =
        c.getString("tramite.public_url", (tls ? "https://" : "http://") + listen);
    runtime::EngineOptions engine_options;
    engine_options.basichttp_base = public_url + "/api/v1/basichttp";
    const std::string calendar_file = c.getString("tramite.calendar", "config/calendar.json");
    if (Poco::File(calendar_file).exists()) {
      auto cal = calendar::loadCalendarFile(calendar_file);
      if (!cal) return cal.status();
      engine_options.calendar =
          std::make_shared<calendar::BusinessCalendar>(std::move(cal).value());
    }
    if (Status st = documentOptions(c, data_dir, engine_options); !st) return st;
    engine_options.on_parked = [&log](const storage::ParkedRecord& row) {
      log.warning("parked %s row %s of instance %s (the others go on): %s", row.source,
                  std::to_string(row.source_id), row.instance_id, row.error);
    };
    SystemClock clock;
    auto engine = std::make_shared<runtime::Engine>(shared_store, clock, engine_options);

    // The directory comes from config the first time; afterwards the stored one (edited
    // through the API) is kept.
    auto dir = engine->directory();
    if (!dir) return dir.status();
    const std::string directory_file = c.getString("tramite.directory", "config/directory.json");
    if (dir->users.empty() && Poco::File(directory_file).exists()) {
      auto loaded = runtime::loadDirectoryFile(directory_file);
      if (!loaded) return loaded.status();
      if (Status s = engine->importDirectory(*loaded, "system"); !s) return s;
      log.information("directory imported from %s: %z users", directory_file, loaded->users.size());
    }
    const std::string workflows = c.getString("tramite.workflows", "workflows");
    std::set<std::string> files;
    Poco::Glob::glob(workflows + "/*.scxml", files);
    for (const std::string& f : files) {
      const std::string name = Poco::Path(f).getBaseName();
      auto xml = readFile(f, "workflow");
      if (!xml) return xml.status();
      // A shipped file whose bytes are already some version (an administrator may have
      // deployed newer ones since) changes nothing: only new bytes become a new version.
      auto known = engine->versions(name);
      if (!known) return known.status();
      const std::string sha = audit::sha256Hex(*xml);
      auto same = std::find_if(known->begin(), known->end(),
                               [&](const storage::DefinitionRecord& d) { return d.sha256 == sha; });
      if (same != known->end()) {
        log.information("workflow %s: %s is version %d (latest %d)", name, f,
                        static_cast<int>(same->version), static_cast<int>(known->back().version));
        continue;
      }
      auto d = engine->deploy(name, *xml, "system");
      if (!d) return d.status();
      log.information("workflow %s version %d (%s)", name, static_cast<int>(d->version), f);
    }

    auto signer = ledgerSigner(c.getString("tramite.audit.signing_key", data_dir + "/ledger.key"));
    if (!signer) return signer.status();
    const std::int64_t checkpoint_ms = c.getInt64("tramite.audit.checkpoint_seconds", 60) * 1000;
    // Checkpoints are timestamped by the TSA documents are stamped by, when one is configured.
    audit::CheckpointStamp stamp;
    if (engine_options.timestamp_authority) {
      stamp = [&log, tsa = timestampStamp(engine_options.timestamp_authority)](
                  const std::string& signed_text) -> Result<std::string> {
        auto token = tsa(signed_text);
        if (!token) log.warning("ledger checkpoint not timestamped: %s", token.status().toString());
        return token;
      };
    }
    auto checkpoint = [&] {
      auto cp = audit::checkpointLedger(*shared_store, *signer, clock.nowMs(), stamp);
      if (!cp) log.warning("ledger checkpoint: %s", cp.status().toString());
    };

    ApiOptions api_options;
    auto secret = tokenSecret(c.getString("tramite.auth.secret_file", data_dir + "/token.key"));
    if (!secret) return secret.status();
    api_options.token_secret = *secret;
    api_options.session_lifetime_ms = c.getInt64("tramite.auth.session_minutes", 15) * 60'000;
    api_options.max_body_bytes =
        static_cast<std::size_t>(c.getInt64("tramite.limits.max_body_bytes", 1 << 20));
    api_options.lockout_after = c.getInt("tramite.auth.lockout_after", 5);
    api_options.principal_cache_ms = c.getInt64("tramite.auth.principal_cache_ms", 1000);
    api_options.max_upload_bytes = static_cast<std::size_t>(engine_options.documents.max_bytes);
    api_options.ledger_signer = std::make_shared<const audit::Signer>(*signer);
    api_options.checkpoint_stamp = stamp;
    Api api(engine, shared_store, clock, api_options);

    // Demo users get the configured password while they have none.
    const std::string demo = c.getString("tramite.demo.password", "");
    if (!demo.empty()) {
      auto users = engine->directory();
      if (!users) return users.status();
      int set = 0;
      for (const storage::UserRecord& u : users->users) {
        auto has = shared_store->begin(storage::TxMode::kRead);
        if (!has) return has.status();
        auto cred = (*has)->credential(u.id);
        if (!cred) return cred.status();
        has->reset();
        if (cred->has_value()) continue;
        if (Status s = api.setPassword(u.id, demo); !s) return s;
        ++set;
      }
      if (set > 0) log.information("demo password set for %d users", set);
    }

    ServerOptions server_options;
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return Status(ErrorCode::kInvalidArgument, "tramite.listen is HOST:PORT, not " + listen);
    }
    server_options.host = listen.substr(0, colon);
    try {
      server_options.port = std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
      return Status(ErrorCode::kInvalidArgument, "tramite.listen is HOST:PORT, not " + listen);
    }
    server_options.tls_certificate = c.getString("tramite.tls.certificate", "");
    server_options.tls_private_key = c.getString("tramite.tls.private_key", "");
    server_options.max_threads = c.getInt("tramite.limits.max_threads", 16);
    server_options.max_body_bytes =
        std::max(api_options.max_body_bytes, api_options.max_upload_bytes);
    server_options.head_timeout_ms = c.getInt64("tramite.limits.head_timeout_seconds", 10) * 1000;
    server_options.request_timeout_ms =
        c.getInt64("tramite.limits.request_timeout_seconds", 30) * 1000;
    server_options.max_connections = c.getInt("tramite.limits.max_connections", 4096);
    server_options.max_connections_per_client =
        c.getInt("tramite.limits.max_connections_per_client", 128);
    // Each connection is a descriptor: the soft limit rises (up to the hard one) when it is
    // lower than the connections allowed plus room for the store, documents and logs.
    if (rlimit descriptors{}; ::getrlimit(RLIMIT_NOFILE, &descriptors) == 0) {
      const auto wanted = static_cast<rlim_t>(server_options.max_connections) + 256;
      if (descriptors.rlim_cur < wanted && descriptors.rlim_cur < descriptors.rlim_max) {
        descriptors.rlim_cur = std::min(wanted, descriptors.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &descriptors);
      }
      if (descriptors.rlim_cur < wanted) {
        log.warning(
            "only %lu descriptors: fewer than tramite.limits.max_connections (%d) can "
            "be open at once",
            static_cast<unsigned long>(descriptors.rlim_cur), server_options.max_connections);
      }
    }
    server_options.log_requests = c.getBool("tramite.log.requests", true);

    Server server(api, server_options);
    if (Status s = server.start(); !s) return s;

    // BasicHTTP sends of instances go to allow-listed hosts only.
    std::vector<std::string> allowed;
    {
      std::istringstream hosts(c.getString("tramite.basichttp.allowed_hosts", ""));
      for (std::string h; hosts >> h;) allowed.push_back(h);
    }
    BasicHttpClient http_client(allowed, c.getInt64("tramite.basichttp.timeout_ms", 10'000),
                                c.getString("tramite.basichttp.token", ""));

    // The after-commit work, in one loop: timers and the inbox, BasicHTTP sends, ledger
    // checkpoints, the notification consumer and, with SMTP configured, its e-mails.
    // Who runs the consumers here, among the servers of one database: by default this host
    // and port, so that the same server started again holds its own leases at once.
    const std::string holder =
        c.getString("tramite.workers.holder", Poco::Environment::nodeName() + ":" +
                                                  server.url().substr(server.url().rfind(':') + 1));
    const std::int64_t lease_ms = c.getInt64("tramite.workers.lease_seconds", 30) * 1000;
    workers::WorkerLoop loop(clock, c.getInt("tramite.timers.poll_ms", 500),
                             [&log](const std::string& job, const Status& st) {
                               log.warning("%s: %s", job, st.toString());
                             });
    loop.add("timers", 0, [&] { return engine->runPending(); });
    loop.add("BasicHTTP sends", 0, [&] {
      return workers::deliverBasicHttpSends(*engine, *shared_store, http_client, clock.nowMs())
          .status();
    });
    loop.add("ledger checkpoint", checkpoint_ms, [&] {
      checkpoint();
      return Status::ok();
    });
    SmtpOptions smtp;
    smtp.host = c.getString("tramite.smtp.host", "");
    smtp.port = c.getInt("tramite.smtp.port", 25);
    smtp.from = c.getString("tramite.smtp.from", "tramite@localhost");
    smtp.username = c.getString("tramite.smtp.username", "");
    smtp.password = c.getString("tramite.smtp.password", "");
    smtp.timeout_ms = c.getInt64("tramite.smtp.timeout_ms", 10'000);
    workers::NotificationConsumer notifications(workers::NotificationOptions{!smtp.host.empty()});
    loop.add("notifications", 0,
             workers::consumerJob(*shared_store, notifications, clock, holder, lease_ms));
    SmtpMailSender mail(smtp);
    workers::MailRetry retry;
    retry.retry_ms = c.getInt64("tramite.smtp.retry_seconds", 30) * 1000;
    retry.max_retry_ms = c.getInt64("tramite.smtp.max_retry_seconds", 3600) * 1000;
    if (!smtp.host.empty()) {
      loop.add("e-mail", 0,
               workers::leasedJob(*shared_store, "email", clock, holder, lease_ms, [&] {
                 return workers::deliverEmails(*shared_store, mail, clock.nowMs(), retry).status();
               }));
    }
    loop.start();

    // As the store took the option: only SQLite on a file at synchronous=FULL keeps a second
    // commit in flight, one writing while the one before it syncs (Store::commitSlots).
    const bool pipelined = shared_store->commitSlots() == 2;
    log.information("Tramite serving on %s (store %s%s)", server.url(), store_uri,
                    std::string(pipelined ? ", pipelined WAL sync" : ""));
    std::cout << "Tramite is serving on " << server.url() << std::endl;
    waitForTerminationRequest();
    log.information("stopping: draining requests in flight");
    server.stop(c.getInt64("tramite.limits.drain_seconds", 10) * 1000);
    loop.stop();
    checkpoint();  // the last entries are signed before the process ends
    log.information("stopped");
    return Status::ok();
  }

  bool help_ = false;
  std::string config_file_;
  std::map<std::string, std::string> overrides_;
};

}  // namespace

int serveMain(int argc, char** argv) {
  ServeApp app;
  return app.run(argc, argv);
}

}  // namespace tramite::api
