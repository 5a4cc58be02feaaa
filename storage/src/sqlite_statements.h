// Statements the SQLite dialect keeps compiled on its connection. Poco's SQLite connector
// compiles a statement again on every execution, which cost a third of the engine's time;
// the store's hot statements (transaction control, batch reads and writes) run here instead,
// on the same connection handle, so they share its transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace tramite::storage {

class SqliteStatements {
 public:
  using Param = std::variant<std::int64_t, std::string_view>;
  // A result row: text and integer columns by position.
  class Row {
   public:
    explicit Row(sqlite3_stmt* stmt) : stmt_(stmt) {}
    std::string text(int column) const;
    std::int64_t integer(int column) const;

   private:
    sqlite3_stmt* stmt_;
  };

  // db is owned by the caller's connection and must outlive this object.
  explicit SqliteStatements(sqlite3* db) : db_(db) {}
  ~SqliteStatements();
  SqliteStatements(const SqliteStatements&) = delete;
  SqliteStatements& operator=(const SqliteStatements&) = delete;

  // Runs text (compiled on first use) with params bound in order; on_row sees each result
  // row. Returns the rows a write changed. Throws std::runtime_error carrying SQLite's
  // message (the store maps it to an error code).
  std::size_t run(const std::string& text, const std::vector<Param>& params,
                  const std::function<void(const Row&)>& on_row = {});

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> compiled_;
};

}  // namespace tramite::storage
