// NativeStatements on a sqlite3 handle: statements compiled once (SQLITE_PREPARE_PERSISTENT).
#include <sqlite3.h>

#include <stdexcept>
#include <unordered_map>

#include "native_statements.h"

namespace tramite::storage {

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& text) {
  throw std::runtime_error(std::string(sqlite3_errmsg(db)) + " (in: " + text.substr(0, 80) + ")");
}

class SqliteRow final : public NativeStatements::Row {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  std::string text(int column) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteStatements final : public NativeStatements {
 public:
  explicit SqliteStatements(sqlite3* db) : db_(db) {}
  ~SqliteStatements() override {
    for (auto& [text, stmt] : compiled_) sqlite3_finalize(stmt);
  }
  SqliteStatements(const SqliteStatements&) = delete;
  SqliteStatements& operator=(const SqliteStatements&) = delete;

  std::size_t run(const std::string& text, const std::vector<Param>& params,
                  const std::function<void(const Row&)>& on_row) override {
    sqlite3_stmt*& stmt = compiled_[text];
    if (!stmt) {
      int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) {
        compiled_.erase(text);
        fail(db_, text);
      }
    }
    // Unbinds and resets on every way out, so the statement holds no locks between runs.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* s = std::get_if<std::string_view>(&params[i])) {
        rc = sqlite3_bind_text(stmt, index, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) fail(db_, text);
    }
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        if (on_row) on_row(SqliteRow(stmt));
        continue;
      }
      if (rc == SQLITE_DONE) break;
      fail(db_, text);
    }
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> compiled_;
};

}  // namespace

std::unique_ptr<NativeStatements> sqliteStatements(sqlite3* db) {
  return std::make_unique<SqliteStatements>(db);
}

}  // namespace tramite::storage
