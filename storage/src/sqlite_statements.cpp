#include "sqlite_statements.h"

#include <sqlite3.h>

#include <stdexcept>

namespace tramite::storage {

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& text) {
  throw std::runtime_error(std::string(sqlite3_errmsg(db)) + " (in: " + text.substr(0, 80) + ")");
}

}  // namespace

std::string SqliteStatements::Row::text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

std::int64_t SqliteStatements::Row::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

SqliteStatements::~SqliteStatements() {
  for (auto& [text, stmt] : compiled_) sqlite3_finalize(stmt);
}

std::size_t SqliteStatements::run(const std::string& text, const std::vector<Param>& params,
                                  const std::function<void(const Row&)>& on_row) {
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
    int rc = std::holds_alternative<std::int64_t>(params[i])
                 ? sqlite3_bind_int64(stmt, index, std::get<std::int64_t>(params[i]))
                 : sqlite3_bind_text(stmt, index, std::get<std::string_view>(params[i]).data(),
                                     static_cast<int>(std::get<std::string_view>(params[i]).size()),
                                     SQLITE_STATIC);
    if (rc != SQLITE_OK) fail(db_, text);
  }
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      if (on_row) on_row(Row(stmt));
      continue;
    }
    if (rc == SQLITE_DONE) break;
    fail(db_, text);
  }
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

}  // namespace tramite::storage
