// The store: connections, migrations and openStore. One SQL implementation for two dialects
// (SQLite, PostgreSQL) over Poco::Data; the transaction and its statements per entity are in
// sql_transaction.h and the sql_*.cpp beside it.
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "migrations.h"
#include "sql_transaction.h"
#include "tramite/text.h"

namespace tramite::storage {

namespace {

using namespace Poco::Data::Keywords;
using sql::Connection;
using sql::Dialect;
using sql::fromException;
using sql::guarded;
using sql::SqlTransaction;

void registerConnectors() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::PostgreSQL::Connector::registerConnector();
  });
}

// Connections for exclusive use. With a dedicated writer (SQLite on a file), write
// transactions take turns on one connection of their own and reads share the others: SQLite
// admits one writer at a time anyway, and a connection discards its whole page cache when it
// finds that another connection has written since its last transaction, so the one writer's
// cache stays warm from commit to commit instead of being read again from the file.
class ConnectionPool {
 public:
  ConnectionPool(Dialect dialect, std::string connector, std::string connection, int size,
                 bool dedicated_writer, StoreOptions options)
      : dialect_(dialect),
        connector_(std::move(connector)),
        connection_(std::move(connection)),
        options_(std::move(options)) {
    readers_.max = size;
    writer_.max = dedicated_writer ? 1 : 0;
  }

  // A connection for exclusive use (for a write transaction when writing), returned to the
  // pool when the handle dies. Blocks while every connection it may use is taken; the writer
  // is waited for up to busy_timeout_ms, as SQLite waits for another process's write lock,
  // then this throws (a busy database).
  std::shared_ptr<Connection> acquire(bool writing) {
    const bool writer = writing && writer_.max > 0;
    Slots& slots = writer ? writer_ : readers_;
    std::unique_lock<std::mutex> lock(mu_);
    auto available = [&] { return !slots.free.empty() || slots.created < slots.max; };
    if (!writer) {
      slots.cv.wait(lock, available);
    } else if (!slots.cv.wait_for(lock, std::chrono::milliseconds(options_.busy_timeout_ms),
                                  available)) {
      throw std::runtime_error("database is locked: another write transaction is still open");
    }
    std::unique_ptr<Connection> s;
    if (!slots.free.empty()) {
      s = std::move(slots.free.back());
      slots.free.pop_back();
    } else {
      ++slots.created;
      lock.unlock();
      try {
        s = open(/*read_only=*/!writer && writer_.max > 0);
      } catch (...) {
        std::lock_guard<std::mutex> relock(mu_);
        --slots.created;
        slots.cv.notify_one();
        throw;
      }
    }
    return std::shared_ptr<Connection>(s.release(), [this, &slots](Connection* p) {
      // A connection that failed (server restart, protocol error) is closed, not reused.
      bool healthy = false;
      try {
        healthy = p->session->isConnected();
      } catch (...) {
      }
      std::lock_guard<std::mutex> relock(mu_);
      if (healthy) {
        slots.free.emplace_back(p);
      } else {
        delete p;
        --slots.created;
      }
      slots.cv.notify_one();
    });
  }

  Dialect dialect() const { return dialect_; }

 private:
  // read_only: a reader beside a dedicated writer, which SQLite then refuses to write through
  // (a write in a read transaction is a bug; PostgreSQL's BEGIN READ ONLY refuses it too).
  std::unique_ptr<Connection> open(bool read_only) {
    auto s = std::make_unique<Poco::Data::Session>(connector_, connection_);
    if (dialect_ == Dialect::kSQLite) {
      *s << "PRAGMA journal_mode=WAL", now;
      *s << "PRAGMA synchronous=" + options_.sqlite_synchronous, now;
      *s << "PRAGMA busy_timeout=" + std::to_string(options_.busy_timeout_ms), now;
      *s << "PRAGMA foreign_keys=ON", now;
      *s << "PRAGMA mmap_size=" + std::to_string(options_.sqlite_mmap_bytes), now;
      *s << "PRAGMA cache_size=-" + std::to_string(options_.sqlite_cache_kib), now;
      if (read_only) *s << "PRAGMA query_only=1", now;
    } else {
      *s << "SET client_min_messages TO WARNING", now;
    }
    auto c = std::make_unique<Connection>(std::move(s));
    if (dialect_ == Dialect::kSQLite) {
      c->native = sqliteStatements(Poco::Data::SQLite::Utility::dbHandle(*c->session));
    } else {
      auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(c->session->impl());
      if (!impl) throw std::logic_error("a PostgreSQL session without its connection handle");
      c->native = postgresStatements(static_cast<PGconn*>(impl->handle()));
    }
    return c;
  }

  struct Slots {
    int max = 0;
    int created = 0;
    std::vector<std::unique_ptr<Connection>> free;
    std::condition_variable cv;
  };

  Dialect dialect_;
  std::string connector_;
  std::string connection_;
  StoreOptions options_;
  std::mutex mu_;
  Slots readers_;
  Slots writer_;
};

// ---- store ----------------------------------------------------------------------------------

class SqlStore final : public Store {
 public:
  // wal_path: the SQLite file's write-ahead log, for pipelined sync; empty without it.
  SqlStore(Dialect dialect, std::string connector, std::string connection, int pool_size,
           bool dedicated_writer, const StoreOptions& options, const std::string& wal_path)
      : wal_(wal_path.empty() ? nullptr
                              : std::make_unique<WalSync>(wal_path, options.sqlite_wal_sync)),
        pool_(dialect, std::move(connector), std::move(connection), pool_size, dedicated_writer,
              withPipelinedSync(options, wal_ != nullptr)) {}

  Result<std::unique_ptr<Transaction>> begin(TxMode mode) override {
    auto tx = beginSql(mode);
    if (!tx) return tx.status();
    return std::unique_ptr<Transaction>(std::move(tx).value());
  }

  int commitSlots() const override {
    if (pool_.dialect() == Dialect::kPostgreSQL) return 0;
    return wal_ ? 2 : 1;
  }

  Status awaitDurable() override { return wal_ ? wal_->awaitDurable() : Status::ok(); }

  const char* dialectName() const override {
    return pool_.dialect() == Dialect::kSQLite ? "sqlite" : "postgresql";
  }

  int schemaVersion() const override { return schema_version_; }

  Status migrate() {
    auto tx = beginSql(TxMode::kWrite);
    if (!tx) return tx.status();
    SqlTransaction& t = **tx;
    return guarded("migrate", [&]() -> Status {
      Dialect d = pool_.dialect();
      if (d == Dialect::kPostgreSQL) {
        // Engines starting together on one database migrate one at a time.
        t.exec("SELECT pg_advisory_xact_lock(7355608)");
      }
      t.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      auto recorded = t.recordedSchemaVersion();
      if (!recorded) return recorded.status();
      const int version = *recorded;
      if (version > kSchemaVersion) {
        return Status(ErrorCode::kFailedPrecondition,
                      "the database schema is version " + std::to_string(version) +
                          "; this build knows up to " + std::to_string(kSchemaVersion));
      }
      for (int v = version; v < kSchemaVersion; ++v) {
        t.execScript(d == Dialect::kSQLite ? kMigrations[v].sqlite : kMigrations[v].postgresql);
      }
      if (version > 0 && version < 4) t.ledgerExistingHistory();
      if (version == 0) {
        t.exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(kSchemaVersion) +
               ")");
      } else {
        t.exec("UPDATE schema_version SET version = " + std::to_string(kSchemaVersion));
      }
      schema_version_ = kSchemaVersion;
      return t.commit();
    });
  }

 private:
  Result<std::unique_ptr<SqlTransaction>> beginSql(TxMode mode) {
    std::shared_ptr<Connection> session;
    try {
      session = pool_.acquire(mode == TxMode::kWrite);
    } catch (const std::exception& e) {
      return fromException(e, "connect");
    }
    auto tx =
        std::make_unique<SqlTransaction>(pool_.dialect(), std::move(session), mode, wal_.get());
    if (Status st = tx->beginTx(); !st) return st;
    return tx;
  }

  // SQLite's own sync in COMMIT is replaced by the store's after it.
  static StoreOptions withPipelinedSync(StoreOptions options, bool pipelined) {
    if (pipelined) options.sqlite_synchronous = "NORMAL";
    return options;
  }

  std::unique_ptr<WalSync> wal_;  // outlives the pool: transactions and connections use it
  ConnectionPool pool_;
  int schema_version_ = 0;
};

// postgresql://user:password@host:port/dbname -> libpq keyword string.
Result<std::string> libpqConnectionString(const std::string& uri) {
  std::string rest = uri.substr(uri.find(':') + 1);
  if (rest.rfind("//", 0) != 0) return rest;  // already "host=... port=..."
  rest = rest.substr(2);
  std::string user;
  std::string password;
  auto at = rest.find('@');
  if (at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    user = cred.substr(0, colon);
    if (colon != std::string::npos) password = cred.substr(colon + 1);
  }
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string db = slash == std::string::npos ? "" : rest.substr(slash + 1);
  auto colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  std::string port = colon == std::string::npos ? "5432" : hostport.substr(colon + 1);
  if (host.empty() || db.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "a PostgreSQL URI needs a host and a database: postgresql://user@host:port/db");
  }
  std::string out = "host=" + host + " port=" + port + " dbname=" + db;
  if (!user.empty()) out += " user=" + user;
  if (!password.empty()) out += " password=" + password;
  return out;
}

}  // namespace

std::string dataDirStoreUri(const std::string& data_dir) {
  return "sqlite:" + data_dir + "/tramite.db";
}

Result<std::unique_ptr<Store>> openStore(const std::string& uri, const StoreOptions& options) {
  registerConnectors();
  std::unique_ptr<SqlStore> store;
  if (uri.rfind("sqlite:", 0) == 0) {
    std::string path = uri.substr(7);
    if (path.empty()) return Status(ErrorCode::kInvalidArgument, "sqlite: needs a file path");
    // An in-memory database exists per connection: use exactly one, for reads and writes.
    const bool in_memory = path == ":memory:";
    const std::string synchronous = asciiLower(options.sqlite_synchronous);
    const bool pipelined = !in_memory && options.sqlite_pipelined_sync &&
                           (synchronous == "full" || synchronous == "2");
    store = std::make_unique<SqlStore>(Dialect::kSQLite, "SQLite", path,
                                       in_memory ? 1 : options.pool_size, !in_memory, options,
                                       pipelined ? path + "-wal" : "");
  } else if (uri.rfind("postgresql:", 0) == 0 || uri.rfind("postgres:", 0) == 0) {
    auto conn = libpqConnectionString(uri);
    if (!conn) return conn.status();
    store = std::make_unique<SqlStore>(Dialect::kPostgreSQL, "PostgreSQL", *conn, options.pool_size,
                                       /*dedicated_writer=*/false, options, "");
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "unknown store URI '" + uri + "' (use sqlite:PATH or postgresql://...)");
  }
  if (Status st = store->migrate(); !st) return st;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tramite::storage
