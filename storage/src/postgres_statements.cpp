// NativeStatements on a libpq connection: each text is prepared once as a named statement
// (one plan, kept by the server for the session) and then run with PQexecPrepared in a single
// round trip. Deferred writes wait and go with the next statement in one pipeline (libpq
// pipeline mode): one round trip for all of them. Integers are sent as int8; strings as
// untyped text, so the server infers their type from the statement (text, jsonb, ...).
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "native_statements.h"

namespace tramite::storage {

namespace {

constexpr Oid kInt8Oid = 20;

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The server's (or the connection's) message, naming the statement.
std::string errorText(PGconn* conn, const PGresult* res, const std::string& text) {
  std::string message = res ? PQresultErrorMessage(res) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message + " (in: " + text.substr(0, 80) + ")";
}

[[noreturn]] void fail(PGconn* conn, const PGresult* res, const std::string& text) {
  throw std::runtime_error(errorText(conn, res, text));
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

// A statement with its parameters in the form libpq takes them (text values, NUL-terminated).
struct Bound {
  Bound(const std::string& statement, const std::vector<NativeStatements::Param>& params,
        NativeStatements::Check then = {})
      : text(statement),
        values(params.size()),
        is_null(params.size(), false),
        types(params.size(), 0),
        check(std::move(then)) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
        values[i] = std::to_string(*v);
        types[i] = kInt8Oid;
      } else if (const auto* s = std::get_if<std::string_view>(&params[i])) {
        values[i] = *s;
      } else {
        is_null[i] = true;
      }
    }
  }

  int count() const { return static_cast<int>(values.size()); }
  // Valid while this Bound is neither changed nor moved.
  std::vector<const char*> pointers() const {
    std::vector<const char*> out(values.size(), nullptr);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!is_null[i]) out[i] = values[i].c_str();
    }
    return out;
  }

  std::string text;
  std::vector<std::string> values;
  std::vector<bool> is_null;
  std::vector<Oid> types;
  NativeStatements::Check check;
};

// The rows a result has (feeding them to on_row) or, for a command, the rows it changed.
std::size_t changedRows(const PGresult* res,
                        const std::function<void(const NativeStatements::Row&)>& on_row) {
  if (PQresultStatus(res) == PGRES_TUPLES_OK) {
    const int rows = PQntuples(res);
    if (on_row) {
      for (int r = 0; r < rows; ++r) on_row(PostgresRow(res, r));
    }
    return static_cast<std::size_t>(rows);
  }
  const char* changed = PQcmdTuples(const_cast<PGresult*>(res));
  std::size_t count = 0;
  std::from_chars(changed, changed + std::char_traits<char>::length(changed), count);
  return count;
}

bool succeeded(const PGresult* res) {
  const ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
}

class PostgresStatements final : public NativeStatements {
 public:
  explicit PostgresStatements(PGconn* conn) : conn_(conn) {}

  std::size_t run(const std::string& text, const std::vector<Param>& params,
                  const std::function<void(const Row&)>& on_row) override {
    if (doomed_) std::rethrow_exception(doomed_);
    std::vector<Bound> items = takePending();
    items.emplace_back(text, params);
    return send(std::move(items), on_row);
  }

  void begin(const std::string& text) override {
    const bool first = pending_.empty();
    defer(text, {}, {});
    begin_kept_ = first;
  }

  void commit() override {
    if (begin_kept_ && pending_.size() == 1) {  // nothing was sent: nothing to commit
      takePending();
      return;
    }
    if (doomed_) std::rethrow_exception(doomed_);
    if (std::any_of(pending_.begin(), pending_.end(),
                    [](const Bound& b) { return bool(b.check); })) {
      send(takePending(), {});  // checked first: a failed check commits nothing
    }
    run("COMMIT", {}, {});
  }

  void rollback() override {
    const bool sent = !begin_kept_;
    takePending();
    doomed_ = nullptr;
    if (sent) run("ROLLBACK", {}, {});
  }

  void defer(const std::string& text, const std::vector<Param>& params, Check check) override {
    if (doomed_) std::rethrow_exception(doomed_);
    pending_.emplace_back(text, params, std::move(check));
  }

 private:
  // The kept statements, to be sent or dropped: once they are, no BEGIN is kept.
  std::vector<Bound> takePending() {
    begin_kept_ = false;
    return std::exchange(pending_, {});
  }

  // The statement's name on this connection; prepared here (one round trip) the first time.
  const std::string& prepared(const Bound& b) {
    auto [it, fresh] = prepared_.try_emplace(b.text);
    if (fresh) {
      it->second = "tramite_" + std::to_string(++names_);
      ResultPtr res(PQprepare(conn_, it->second.c_str(), b.text.c_str(), b.count(), b.types.data()),
                    PQclear);
      if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        prepared_.erase(it);
        fail(conn_, res.get(), b.text);
      }
    }
    return it->second;
  }

  std::size_t runOne(const Bound& b, const std::function<void(const Row&)>& on_row) {
    const std::string& name = prepared(b);
    const std::vector<const char*> values = b.pointers();
    ResultPtr res(
        PQexecPrepared(conn_, name.c_str(), b.count(), values.data(), nullptr, nullptr, 0),
        PQclear);
    if (!succeeded(res.get())) fail(conn_, res.get(), b.text);
    const std::size_t changed = changedRows(res.get(), on_row);
    if (b.check) check(b, changed);
    return changed;
  }

  // Runs b's check; a failure dooms the transaction.
  void check(const Bound& b, std::size_t changed) {
    try {
      b.check(changed);
    } catch (...) {
      doomed_ = std::current_exception();
      throw;
    }
  }

  // Sends items in one pipeline and reads every answer; on_row sees the last statement's
  // rows, whose count is returned. Statements not yet prepared on this connection are
  // prepared first, each in a round trip of its own (once per connection). The first failure
  // is thrown once every answer is read, so the connection is ready for ROLLBACK; items lost
  // unsent make the transaction fail until then.
  std::size_t send(std::vector<Bound> items, const std::function<void(const Row&)>& on_row) {
    if (items.size() == 1) return runOne(items.front(), on_row);
    std::vector<const std::string*> names;
    names.reserve(items.size());
    std::vector<std::vector<const char*>> values;  // alive until the pipeline is sent
    values.reserve(items.size());
    try {
      for (const Bound& b : items) {
        names.push_back(&prepared(b));
        values.push_back(b.pointers());
      }
      bool sending = PQenterPipelineMode(conn_) == 1;
      for (std::size_t i = 0; sending && i < items.size(); ++i) {
        sending = PQsendQueryPrepared(conn_, names[i]->c_str(), items[i].count(), values[i].data(),
                                      nullptr, nullptr, 0) == 1;
      }
      if (!sending || PQpipelineSync(conn_) != 1) fail(conn_, nullptr, items.front().text);
    } catch (...) {
      doomed_ = std::current_exception();
      throw;
    }
    std::string error;
    std::exception_ptr failure;
    std::size_t last = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Bound& b = items[i];
      ResultPtr res(PQgetResult(conn_), PQclear);
      while (PGresult* end = PQgetResult(conn_)) PQclear(end);  // a statement's answers end in NULL
      if (!succeeded(res.get())) {
        // Statements after a failed one are skipped (PGRES_PIPELINE_ABORTED): it is the error.
        if (error.empty() && (!res || PQresultStatus(res.get()) != PGRES_PIPELINE_ABORTED)) {
          error = errorText(conn_, res.get(), b.text);
        }
        continue;
      }
      const bool is_last = i + 1 == items.size();
      std::size_t changed = 0;
      try {
        changed = changedRows(res.get(), is_last ? on_row : nullptr);
      } catch (...) {  // from on_row
        if (!failure) failure = std::current_exception();
        continue;
      }
      if (is_last) last = changed;
      if (b.check && !failure) {
        try {
          check(b, changed);
        } catch (...) {
          failure = std::current_exception();
        }
      }
    }
    ResultPtr sync(PQgetResult(conn_), PQclear);
    const bool synced = sync && PQresultStatus(sync.get()) == PGRES_PIPELINE_SYNC;
    if (synced) PQexitPipelineMode(conn_);
    if (!error.empty()) throw std::runtime_error(error);
    if (!synced) fail(conn_, sync.get(), items.front().text);
    if (failure) std::rethrow_exception(failure);
    return last;
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // text -> statement name
  std::uint64_t names_ = 0;     // statement names are never reused on a connection
  std::vector<Bound> pending_;  // deferred writes, in order, not yet sent
  bool begin_kept_ = false;     // pending_ starts with the transaction's BEGIN
  std::exception_ptr doomed_;   // a deferred write's check failed: only rollback() may follow
};

}  // namespace

std::unique_ptr<NativeStatements> postgresStatements(pg_conn* conn) {
  return std::make_unique<PostgresStatements>(conn);
}

}  // namespace tramite::storage
