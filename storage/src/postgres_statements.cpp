// NativeStatements on a libpq connection: each text is prepared once as a named statement
// (one plan, kept by the server for the session) and then run with PQexecPrepared in a single
// round trip. Integers are sent as int8; strings as untyped text, so the server infers their
// type from the statement (text, jsonb, ...).
#include <libpq-fe.h>

#include <charconv>
#include <stdexcept>
#include <unordered_map>

#include "native_statements.h"

namespace tramite::storage {

namespace {

constexpr Oid kInt8Oid = 20;

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

[[noreturn]] void fail(PGconn* conn, const PGresult* res, const std::string& text) {
  std::string message = res ? PQresultErrorMessage(res) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  throw std::runtime_error(message + " (in: " + text.substr(0, 80) + ")");
}

class PostgresRow final : public NativeStatements::Row {
 public:
  PostgresRow(const PGresult* res, int row) : res_(res), row_(row) {}
  std::string text(int column) const override {
    return std::string(PQgetvalue(res_, row_, column),
                       static_cast<std::size_t>(PQgetlength(res_, row_, column)));
  }
  std::int64_t integer(int column) const override {
    const char* p = PQgetvalue(res_, row_, column);
    const char* end = p + PQgetlength(res_, row_, column);
    std::int64_t value = 0;
    if (p != end && *p == 't') return 1;  // a boolean column
    std::from_chars(p, end, value);
    return value;
  }

 private:
  const PGresult* res_;
  int row_;
};

class PostgresStatements final : public NativeStatements {
 public:
  explicit PostgresStatements(PGconn* conn) : conn_(conn) {}

  std::size_t run(const std::string& text, const std::vector<Param>& params,
                  const std::function<void(const Row&)>& on_row) override {
    // libpq reads text-format values as NUL-terminated strings, so each is copied once.
    const int n = static_cast<int>(params.size());
    std::vector<std::string> texts(params.size());
    std::vector<Oid> types(params.size(), 0);
    std::vector<const char*> values(params.size(), nullptr);  // nullptr: NULL
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
        texts[i] = std::to_string(*v);
        types[i] = kInt8Oid;
      } else if (const auto* s = std::get_if<std::string_view>(&params[i])) {
        texts[i] = *s;
      } else {
        continue;
      }
      values[i] = texts[i].c_str();
    }
    auto [it, fresh] = prepared_.try_emplace(text);
    if (fresh) {
      it->second = "tramite_" + std::to_string(++names_);
      ResultPtr res(PQprepare(conn_, it->second.c_str(), text.c_str(), n, types.data()), PQclear);
      if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        prepared_.erase(it);
        fail(conn_, res.get(), text);
      }
    }
    ResultPtr res(PQexecPrepared(conn_, it->second.c_str(), n, values.data(), nullptr, nullptr, 0),
                  PQclear);
    const ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK) {
      const int rows = PQntuples(res.get());
      if (on_row) {
        for (int r = 0; r < rows; ++r) on_row(PostgresRow(res.get(), r));
      }
      return static_cast<std::size_t>(rows);
    }
    if (status != PGRES_COMMAND_OK) fail(conn_, res.get(), text);
    const char* changed = PQcmdTuples(res.get());
    std::size_t count = 0;
    std::from_chars(changed, changed + std::char_traits<char>::length(changed), count);
    return count;
  }

 private:
  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // text -> statement name
  std::uint64_t names_ = 0;  // statement names are never reused on a connection
};

}  // namespace

std::unique_ptr<NativeStatements> postgresStatements(pg_conn* conn) {
  return std::make_unique<PostgresStatements>(conn);
}

}  // namespace tramite::storage
