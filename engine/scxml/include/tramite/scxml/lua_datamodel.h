// The Lua 5.4 datamodel. Sessions on one thread share a sandboxed lua_State (LuaRuntime);
// each session's variables live in its own environment table, so sessions cannot see each
// other. The sandbox has no io, os, package, require, load, dofile, coroutine or debug;
// library tables are read-only. Each evaluation runs under an instruction budget and a
// memory cap; exceeding either is an ordinary evaluation error (error.execution).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "tramite/scxml/datamodel.h"

struct lua_State;
struct lua_Debug;

namespace tramite::scxml {

struct LuaLimits {
  std::int64_t instructions_per_evaluation = 10'000'000;
  std::size_t memory_per_evaluation = 64 * 1024 * 1024;  // bytes a single evaluation may add
  std::size_t memory_total = 1024ull * 1024 * 1024;      // hard cap for the whole runtime
};

// A sandboxed Lua state plus compiled-code caches. Not thread-safe: use one per thread
// (forThisThread), and step each session on the thread that created its datamodel.
class LuaRuntime {
 public:
  explicit LuaRuntime(const LuaLimits& limits = {});
  ~LuaRuntime();
  LuaRuntime(const LuaRuntime&) = delete;
  LuaRuntime& operator=(const LuaRuntime&) = delete;

  // The calling thread's shared runtime (created on first use).
  static std::shared_ptr<LuaRuntime> forThisThread();

  lua_State* state() const { return L_; }
  std::size_t memoryInUse() const { return used_; }
  // True while the current evaluation has hit its instruction budget or memory cap.
  bool limitHit() const { return limit_hit_; }
  // The configuration In() consults during the current evaluation (may be null).
  const StateQuery* currentQuery() const { return query_; }

 private:
  friend class LuaDataModel;
  struct Guard;
  static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize);
  static void countHook(lua_State* L, lua_Debug* ar);
  // string.find, match, gmatch and gsub: the match's worst case is charged to the
  // evaluation's instruction budget before it runs (the matcher itself runs in C, where the
  // count hook does not reach).
  static int boundedPattern(lua_State* L);

  lua_State* L_ = nullptr;
  LuaLimits limits_;
  std::size_t used_ = 0;
  std::size_t limit_;
  std::int64_t instructions_left_ = 0;
  bool limit_hit_ = false;
  const StateQuery* query_ = nullptr;
  int sandbox_ref_ = -1;   // shared read-only globals
  int sys_meta_ref_ = -1;  // metatable {__index = sandbox} for system-variable tables
  int guard_ref_ = -1;     // __newindex guard for session environments
  std::unordered_map<std::uint64_t, int> code_;            // compiled chunk refs
  std::unordered_map<std::uint64_t, std::string> errors_;  // compile errors
};

class LuaDataModel final : public DataModel {
 public:
  // chart: the document (its serial keys the code cache); runtime: shared per thread.
  LuaDataModel(ChartPtr chart, std::shared_ptr<LuaRuntime> runtime);
  ~LuaDataModel() override;

  Status setSystemVariables(const SystemVariables& vars) override;
  void setStateQuery(const StateQuery* query) override { query_ = query; }
  Status declare(const DataDecl& decl, const json::Value* override_value) override;
  void setEvent(const Event& event) override;
  Result<bool> evaluateCondition(const Expr& cond) override;
  Result<json::Value> evaluate(const Expr& expr) override;
  Result<std::string> evaluateString(const Expr& expr) override;
  Status assign(const Expr& location, const Expr& expr) override;
  Status assignValue(const Expr& location, const json::Value& value) override;
  Status assignContent(const Expr& location, const Content& content) override;
  Status runScript(const Expr& script) override;
  Status forEach(const Expr& array, const Expr& item, const Expr& index,
                 const std::function<bool()>& body) override;
  json::Value snapshot() const override;
  Status restore(const json::Value& snapshot) override;

 private:
  enum class Kind : std::uint8_t { kValue = 0, kAssign = 1, kScript = 2 };
  // Pushes the compiled function for expr (or returns an error without pushing).
  Status pushCode(const Expr& expr, Kind kind);
  // Runs the function on the stack top with env (+ nargs more values pushed after it),
  // leaving nresults on the stack. Applies budget and memory limits.
  Status call(int nargs, int nresults, const Expr& expr);
  Status pushValue(const Expr& expr);
  Status setLocation(const Expr& location);  // pops the value on the stack top
  // Refuses a location rooted at a system variable (_sessionid, _event, ...).
  Status checkAssignable(const Expr& location) const;

  ChartPtr chart_;
  std::shared_ptr<LuaRuntime> rt_;
  lua_State* L_;
  int env_ref_ = -1;
  int sys_ref_ = -1;
  bool binds_event_ = true;
  const StateQuery* query_ = nullptr;
};

}  // namespace tramite::scxml
