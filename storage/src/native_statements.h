// Statements run on a connection's native handle, compiled or prepared once per connection.
// Poco's SQLite connector compiles a statement again on every execution and its PostgreSQL
// connector prepares (and plans) every new statement in an extra round trip; the store's
// statements run here instead, on the same handle as the Poco session, so they share its
// transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct pg_conn;

namespace tramite::storage {

class NativeStatements {
 public:
  // A parameter: an integer, text, or NULL (monostate).
  using Param = std::variant<std::int64_t, std::string_view, std::monostate>;
  // A result row: text and integer columns by position (NULL reads as "" and 0).
  class Row {
   public:
    virtual ~Row() = default;
    virtual std::string text(int column) const = 0;
    virtual std::int64_t integer(int column) const = 0;
  };

  virtual ~NativeStatements() = default;

  // Runs text (in the handle's dialect, prepared on first use) with params bound in order;
  // on_row sees each result row. Returns the rows a write changed. Throws std::runtime_error
  // carrying the database's message (the store maps it to an error code). Not thread-safe:
  // one user at a time, like the connection.
  virtual std::size_t run(const std::string& text, const std::vector<Param>& params,
                          const std::function<void(const Row&)>& on_row = {}) = 0;

  // Sees the rows a deferred write changed; throws to fail it (the exception reaches the
  // caller of the statement that carried the write).
  using Check = std::function<void(std::size_t changed)>;

  // Runs a write whose answer the caller does not wait for. PostgreSQL keeps it (params
  // copied) and sends it with the next run(), in one pipeline and one round trip; its failure,
  // or check's, is thrown by that run() (or a later one) and fails the transaction: after a
  // failed check every statement but rollback() throws again. A checked write is never sent
  // in the same pipeline as the COMMIT, so a failed check cannot have committed. rollback()
  // drops what was kept. The default runs the write at once and checks it.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): a sink the PostgreSQL override keeps
  virtual void defer(const std::string& text, const std::vector<Param>& params, Check check = {}) {
    const std::size_t changed = run(text, params);
    if (check) check(changed);
  }

  // Transaction control, with the same errors as run(). begin runs text (BEGIN and its
  // options); PostgreSQL keeps it for the transaction's first statement, so a transaction
  // that sends nothing costs no round trip and its commit or rollback sends nothing either.
  virtual void begin(const std::string& text) { run(text, {}); }
  virtual void commit() { run("COMMIT", {}); }
  virtual void rollback() { run("ROLLBACK", {}); }
};

// db / conn are owned by the caller's connection and must outlive the returned object.
std::unique_ptr<NativeStatements> sqliteStatements(sqlite3* db);
std::unique_ptr<NativeStatements> postgresStatements(pg_conn* conn);

}  // namespace tramite::storage
