#include "tramite/scxml/lua_datamodel.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <lua.hpp>
#include <new>

#include "text_util.h"

namespace tramite::scxml {

namespace {

// Every chunk gets its environment as its first argument, so closures a script creates
// keep the environment of the session that created them.
constexpr std::string_view kValuePrefix = "local _ENV = ...; return ";
constexpr std::string_view kAssignPrefix = "local _ENV, _tramite_value_ = ...; ";
constexpr std::string_view kAssignSuffix = " = _tramite_value_";
constexpr std::string_view kScriptPrefix = "local _ENV = ...; ";

constexpr const char* kSystemNames[] = {"_sessionid", "_name", "_ioprocessors", "_event", "_x"};
constexpr int kMaxConvertDepth = 64;

LuaRuntime* runtimeOf(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<LuaRuntime*>(ud);
}

bool isSystemKey(const char* k) {
  for (const char* n : kSystemNames) {
    if (std::strcmp(k, n) == 0) return true;
  }
  return false;
}

// __newindex of a session environment: system variables are read-only.
int guardNewIndex(lua_State* L) {
  if (lua_type(L, 2) == LUA_TSTRING && isSystemKey(lua_tostring(L, 2))) {
    return luaL_error(L, "cannot assign to system variable '%s'", lua_tostring(L, 2));
  }
  lua_rawset(L, 1);
  return 0;
}

int readOnlyNewIndex(lua_State* L) {
  return luaL_error(L, "library tables are read-only");
}

// pcall that cannot swallow a budget or memory-cap error.
int limitedPcall(lua_State* L) {
  luaL_checkany(L, 1);
  int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  if (runtimeOf(L)->limitHit()) return lua_error(L);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, 1);
  return lua_gettop(L);
}

// In('stateId'): is that state active in the session being evaluated?
int inPredicate(lua_State* L) {
  const char* id = lua_tostring(L, 1);
  const StateQuery* q = runtimeOf(L)->currentQuery();
  lua_pushboolean(L, id != nullptr && q != nullptr && q->isActive(id));
  return 1;
}

// Wraps the table at the stack top in a read-only proxy (replacing it).
void makeReadOnlyProxy(lua_State* L) {
  lua_newtable(L);  // lib proxy
  lua_newtable(L);  // lib proxy meta
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readOnlyNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);  // lib proxy
  lua_remove(L, -2);        // proxy
}

void pushJson(lua_State* L, const json::Value& v, int depth = 0) {
  luaL_checkstack(L, 4, "json conversion");
  switch (v.type()) {
    case json::Type::kNull: lua_pushnil(L); break;
    case json::Type::kBool: lua_pushboolean(L, v.asBool()); break;
    case json::Type::kInt: lua_pushinteger(L, static_cast<lua_Integer>(v.asInt())); break;
    case json::Type::kDouble: lua_pushnumber(L, v.asDouble()); break;
    case json::Type::kString: lua_pushlstring(L, v.asString().data(), v.asString().size()); break;
    case json::Type::kArray: {
      const auto& a = v.asArray();
      lua_createtable(L, static_cast<int>(a.size()), 0);
      lua_Integer i = 1;
      for (const auto& item : a) {
        pushJson(L, item, depth + 1);
        lua_rawseti(L, -2, i++);
      }
      break;
    }
    case json::Type::kObject: {
      const auto& o = v.asObject();
      lua_createtable(L, 0, static_cast<int>(o.size()));
      for (const auto& [k, item] : o) {
        lua_pushlstring(L, k.data(), k.size());
        pushJson(L, item, depth + 1);
        lua_rawset(L, -3);
      }
      break;
    }
  }
}

Result<json::Value> toJson(lua_State* L, int idx, int depth = 0) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return json::Value();
    case LUA_TBOOLEAN: return json::Value(lua_toboolean(L, idx) != 0);
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        return json::Value(static_cast<std::int64_t>(lua_tointeger(L, idx)));
      return json::Value(static_cast<double>(lua_tonumber(L, idx)));
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      return json::Value(std::string(s, len));
    }
    case LUA_TTABLE: {
      if (depth >= kMaxConvertDepth) {
        return Status(ErrorCode::kInvalidArgument, "table nested too deeply (or cyclic)");
      }
      luaL_checkstack(L, 4, "json conversion");
      auto n = static_cast<lua_Integer>(lua_rawlen(L, idx));
      lua_Integer count = 0;
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        ++count;
        lua_pop(L, 1);
      }
      if (n > 0 && count == n) {
        json::Array arr;
        arr.reserve(static_cast<std::size_t>(n));
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_rawgeti(L, idx, i);
          auto item = toJson(L, -1, depth + 1);
          lua_pop(L, 1);
          if (!item) return item.status();
          arr.push_back(std::move(item).value());
        }
        return json::Value(std::move(arr));
      }
      json::Object obj;
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        std::string key;
        if (lua_type(L, -2) == LUA_TSTRING) {
          std::size_t len = 0;
          const char* k = lua_tolstring(L, -2, &len);
          key.assign(k, len);
        } else if (lua_type(L, -2) == LUA_TNUMBER) {
          lua_pushvalue(L, -2);
          key = lua_tostring(L, -1);
          lua_pop(L, 1);
        } else {
          lua_pop(L, 2);
          return Status(ErrorCode::kInvalidArgument, "table keys must be strings or numbers");
        }
        auto item = toJson(L, -1, depth + 1);
        lua_pop(L, 1);
        if (!item) {
          lua_pop(L, 1);
          return item.status();
        }
        obj.emplace_back(std::move(key), std::move(item).value());
      }
      return json::Value(std::move(obj));
    }
    default:
      return Status(ErrorCode::kInvalidArgument,
                    std::string("a ") + luaL_typename(L, idx) + " cannot be used as data");
  }
}

// Inline text that is not a Lua expression: its JSON value, or the space-normalised text.
void pushInlineText(lua_State* L, const std::string& body) {
  if (auto parsed = json::parse(body)) {
    pushJson(L, *parsed);
    return;
  }
  std::string normalized = text::normalizeSpace(body);
  lua_pushlstring(L, normalized.data(), normalized.size());
}

}  // namespace

// ---- runtime ------------------------------------------------------------------------------

struct LuaRuntime::Guard {
  Guard(LuaRuntime& rt, const StateQuery* query) : rt_(rt) {
    rt_.instructions_left_ = rt_.limits_.instructions_per_evaluation;
    rt_.limit_hit_ = false;
    rt_.limit_ = std::min(rt_.limits_.memory_total, rt_.used_ + rt_.limits_.memory_per_evaluation);
    rt_.query_ = query;
  }
  ~Guard() {
    rt_.limit_ = rt_.limits_.memory_total;
    rt_.query_ = nullptr;
  }
  LuaRuntime& rt_;
};

void* LuaRuntime::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* rt = static_cast<LuaRuntime*>(ud);
  std::size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    rt->used_ -= old;
    std::free(ptr);
    return nullptr;
  }
  if (nsize > old && rt->used_ + (nsize - old) > rt->limit_) {
    rt->limit_hit_ = true;
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  rt->used_ = rt->used_ - old + nsize;
  return p;
}

void LuaRuntime::countHook(lua_State* L, lua_Debug*) {
  LuaRuntime* rt = runtimeOf(L);
  rt->instructions_left_ -= 1000;
  if (rt->instructions_left_ < 0) {
    rt->limit_hit_ = true;
    luaL_error(L, "instruction budget exhausted");
  }
}

namespace {

// An upper bound on the steps a Lua pattern match may take over a subject of n bytes: every
// quantified item (*, +, -) may try each position once for each way the items before it
// matched, from each start position (one when anchored). Saturates at INT64_MAX.
std::int64_t patternCost(std::size_t n, const char* p, std::size_t len) {
  int quantified = 0;
  bool in_set = false;
  for (std::size_t i = 0; i < len; ++i) {
    const char c = p[i];
    if (c == '%') {
      ++i;  // an escape or a class: the next character is not special
      continue;
    }
    if (in_set) {
      if (c == ']') in_set = false;
      continue;
    }
    if (c == '[') {
      in_set = true;
      if (i + 1 < len && p[i + 1] == '^') ++i;
      if (i + 1 < len && p[i + 1] == ']') ++i;  // a literal ] first in a set
    } else if (c == '*' || c == '+' || c == '-') {
      ++quantified;
    }
  }
  const std::int64_t size = static_cast<std::int64_t>(n) + 1;
  std::int64_t cost = len > 0 && p[0] == '^' ? 1 : size;
  for (int q = 0; q < std::max(quantified, 1); ++q) {
    if (cost > std::numeric_limits<std::int64_t>::max() / size) {
      return std::numeric_limits<std::int64_t>::max();
    }
    cost *= size;
  }
  return cost;
}

}  // namespace

int LuaRuntime::boundedPattern(lua_State* L) {
  std::size_t n = 0;
  std::size_t len = 0;
  luaL_checklstring(L, 1, &n);
  const char* pattern = luaL_checklstring(L, 2, &len);
  const bool plain = lua_toboolean(L, lua_upvalueindex(2)) && lua_toboolean(L, 4);
  if (!plain) {
    LuaRuntime* rt = runtimeOf(L);
    const std::int64_t cost = patternCost(n, pattern, len);
    if (cost > rt->instructions_left_) {
      rt->limit_hit_ = true;
      return luaL_error(L,
                        "instruction budget exhausted: this pattern may take up to %I steps on a "
                        "subject of %I bytes (fewer quantifiers, an anchor or a plain find)",
                        static_cast<lua_Integer>(std::min<std::int64_t>(cost, LUA_MAXINTEGER)),
                        static_cast<lua_Integer>(n));
    }
    rt->instructions_left_ -= cost;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

LuaRuntime::LuaRuntime(const LuaLimits& limits) : limits_(limits), limit_(limits.memory_total) {
  L_ = lua_newstate(&LuaRuntime::allocate, this);
  if (L_ == nullptr) throw std::bad_alloc();
  lua_gc(L_, LUA_GCGEN, 0, 0);
  luaL_requiref(L_, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L_, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L_, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L_, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L_, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  lua_settop(L_, 0);
  // The string library's matchers, bounded (in the library table itself, which strings'
  // methods reach too).
  lua_getglobal(L_, LUA_STRLIBNAME);
  for (const char* name : {"find", "match", "gmatch", "gsub"}) {
    lua_getfield(L_, -1, name);
    lua_pushboolean(L_, std::string_view(name) == "find");  // takes a plain flag
    lua_pushcclosure(L_, &LuaRuntime::boundedPattern, 2);
    lua_setfield(L_, -2, name);
  }
  lua_pop(L_, 1);

  // The sandbox: a curated copy of the globals; nothing that loads code, touches files,
  // the OS, the debug interface or coroutines (whose resume would swallow limit errors).
  lua_newtable(L_);
  lua_pushglobaltable(L_);
  for (const char* name :
       {"assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring", "type",
        "rawequal", "rawlen", "rawget", "getmetatable", "setmetatable"}) {
    lua_getfield(L_, -1, name);
    lua_setfield(L_, -3, name);
  }
  for (const char* lib : {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME}) {
    lua_getfield(L_, -1, lib);
    makeReadOnlyProxy(L_);
    lua_setfield(L_, -3, lib);
  }
  lua_pop(L_, 1);  // globals
  lua_pushcfunction(L_, limitedPcall);
  lua_setfield(L_, -2, "pcall");
  lua_pushcfunction(L_, inPredicate);
  lua_setfield(L_, -2, "In");
  // Shared by every session and definition on this thread, so read-only: a document that
  // assigns _G.tonumber (or any global through _G) gets an error, not everyone's tonumber.
  makeReadOnlyProxy(L_);
  lua_getmetatable(L_, -1);
  lua_getfield(L_, -1, "__index");  // the globals behind the proxy
  lua_pushvalue(L_, -3);
  lua_setfield(L_, -2, "_G");  // _G is the proxy
  lua_pop(L_, 2);
  sandbox_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);

  // Strings share one metatable; hide it so no session can reach the real string table.
  lua_pushliteral(L_, "");
  lua_getmetatable(L_, -1);
  lua_pushboolean(L_, 0);
  lua_setfield(L_, -2, "__metatable");
  lua_pop(L_, 2);

  lua_newtable(L_);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, sandbox_ref_);
  lua_setfield(L_, -2, "__index");
  lua_pushboolean(L_, 0);
  lua_setfield(L_, -2, "__metatable");
  sys_meta_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);

  lua_pushcfunction(L_, guardNewIndex);
  guard_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);

  lua_sethook(L_, &LuaRuntime::countHook, LUA_MASKCOUNT, 1000);
}

LuaRuntime::~LuaRuntime() {
  if (L_) lua_close(L_);
}

std::shared_ptr<LuaRuntime> LuaRuntime::forThisThread() {
  thread_local std::shared_ptr<LuaRuntime> runtime = std::make_shared<LuaRuntime>();
  return runtime;
}

// ---- datamodel ----------------------------------------------------------------------------

LuaDataModel::LuaDataModel(ChartPtr chart, std::shared_ptr<LuaRuntime> runtime)
    : chart_(std::move(chart)), rt_(std::move(runtime)), L_(rt_->state()) {
  binds_event_ = chart_->usesEvent();
  lua_newtable(L_);  // sys: system variables, falling back on the sandbox
  lua_rawgeti(L_, LUA_REGISTRYINDEX, rt_->sys_meta_ref_);
  lua_setmetatable(L_, -2);
  lua_newtable(L_);  // env: the session's variables
  lua_createtable(L_, 0, 3);
  lua_pushvalue(L_, -3);
  lua_setfield(L_, -2, "__index");
  lua_rawgeti(L_, LUA_REGISTRYINDEX, rt_->guard_ref_);
  lua_setfield(L_, -2, "__newindex");
  lua_pushboolean(L_, 0);
  lua_setfield(L_, -2, "__metatable");
  lua_setmetatable(L_, -2);
  env_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  sys_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
}

LuaDataModel::~LuaDataModel() {
  luaL_unref(L_, LUA_REGISTRYINDEX, env_ref_);
  luaL_unref(L_, LUA_REGISTRYINDEX, sys_ref_);
}

Status LuaDataModel::checkAssignable(const Expr& location) const {
  const std::string& text = location.text;
  std::size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return Status::ok();
  std::size_t e = b;
  while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '_')) {
    ++e;
  }
  if (!isSystemKey(text.substr(b, e - b).c_str())) return Status::ok();
  return Status(ErrorCode::kInvalidArgument, "cannot assign to system variable '" + text + "'");
}

Status LuaDataModel::pushCode(const Expr& expr, Kind kind) {
  std::uint64_t key =
      (chart_->serial() << 34) | (std::uint64_t{expr.id} << 2) | static_cast<std::uint64_t>(kind);
  if (expr.id != 0) {
    if (auto it = rt_->code_.find(key); it != rt_->code_.end()) {
      lua_rawgeti(L_, LUA_REGISTRYINDEX, it->second);
      return Status::ok();
    }
    if (auto it = rt_->errors_.find(key); it != rt_->errors_.end()) {
      return Status(ErrorCode::kInvalidArgument, it->second);
    }
  }
  std::string code;
  switch (kind) {
    case Kind::kValue: code.append(kValuePrefix).append(expr.text); break;
    case Kind::kAssign: code.append(kAssignPrefix).append(expr.text).append(kAssignSuffix); break;
    case Kind::kScript: code.append(kScriptPrefix).append(expr.text); break;
  }
  // Text chunks only: precompiled bytecode is never accepted.
  if (luaL_loadbufferx(L_, code.data(), code.size(), "=expr", "t") != LUA_OK) {
    std::string msg = "'" + expr.text + "' is not valid Lua: " + lua_tostring(L_, -1);
    lua_pop(L_, 1);
    if (expr.id != 0) rt_->errors_.emplace(key, msg);
    return Status(ErrorCode::kInvalidArgument, msg);
  }
  if (expr.id != 0) {
    lua_pushvalue(L_, -1);
    rt_->code_.emplace(key, luaL_ref(L_, LUA_REGISTRYINDEX));
  }
  return Status::ok();
}

Status LuaDataModel::call(int nargs, int nresults, const Expr& expr) {
  LuaRuntime::Guard guard(*rt_, query_);
  if (lua_pcall(L_, nargs, nresults, 0) != LUA_OK) {
    const char* msg = lua_tostring(L_, -1);
    std::string text = "evaluating '" + expr.text + "': " + (msg ? msg : "error");
    lua_pop(L_, 1);
    return Status(rt_->limitHit() ? ErrorCode::kResourceExhausted : ErrorCode::kInvalidArgument,
                  text);
  }
  return Status::ok();
}

Status LuaDataModel::pushValue(const Expr& expr) {
  if (Status st = pushCode(expr, Kind::kValue); !st) return st;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, env_ref_);
  return call(1, 1, expr);
}

Status LuaDataModel::setLocation(const Expr& location) {
  if (Status st = checkAssignable(location); !st) {
    lua_pop(L_, 1);
    return st;
  }
  if (Status st = pushCode(location, Kind::kAssign); !st) {
    lua_pop(L_, 1);
    return st;
  }
  lua_insert(L_, -2);  // fn value
  lua_rawgeti(L_, LUA_REGISTRYINDEX, env_ref_);
  lua_insert(L_, -2);  // fn env value
  return call(2, 0, location);
}

Status LuaDataModel::setSystemVariables(const SystemVariables& vars) {
  lua_rawgeti(L_, LUA_REGISTRYINDEX, sys_ref_);
  lua_pushlstring(L_, vars.session_id.data(), vars.session_id.size());
  lua_setfield(L_, -2, "_sessionid");
  lua_pushlstring(L_, vars.name.data(), vars.name.size());
  lua_setfield(L_, -2, "_name");
  pushJson(L_, vars.ioprocessors);
  lua_setfield(L_, -2, "_ioprocessors");
  lua_pop(L_, 1);
  return Status::ok();
}

Status LuaDataModel::declare(const DataDecl& decl, const json::Value* override_value) {
  Status result;
  if (override_value) {
    pushJson(L_, *override_value);
  } else if (decl.inline_markup) {
    lua_pushlstring(L_, decl.inline_body.data(), decl.inline_body.size());
  } else if (!decl.expr.empty()) {
    result = pushValue(decl.expr);
    if (!result && !decl.inline_body.empty()) {
      // Inline text that is not Lua: JSON, or else the space-normalised text.
      result = Status::ok();
      pushInlineText(L_, decl.inline_body);
    } else if (!result) {
      lua_pushnil(L_);
    }
  } else {
    lua_pushnil(L_);
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, env_ref_);
  lua_insert(L_, -2);
  lua_pushlstring(L_, decl.id.data(), decl.id.size());
  lua_insert(L_, -2);
  lua_rawset(L_, -3);
  lua_pop(L_, 1);
  return result;
}

void LuaDataModel::setEvent(const Event& event) {
  if (!binds_event_) return;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, sys_ref_);
  lua_createtable(L_, 0, 7);
  auto field = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    lua_pushlstring(L_, value.data(), value.size());
    lua_setfield(L_, -2, name);
  };
  field("name", event.name);
  lua_pushstring(L_, eventTypeName(event.type));
  lua_setfield(L_, -2, "type");
  field("sendid", event.sendid);
  field("origin", event.origin);
  field("origintype", event.origintype);
  field("invokeid", event.invokeid);
  field("raw", event.raw);
  pushJson(L_, event.data);
  lua_setfield(L_, -2, "data");
  lua_setfield(L_, -2, "_event");
  lua_pop(L_, 1);
}

Result<bool> LuaDataModel::evaluateCondition(const Expr& cond) {
  if (Status st = pushValue(cond); !st) return st;
  bool b = lua_toboolean(L_, -1) != 0;
  lua_pop(L_, 1);
  return b;
}

Result<json::Value> LuaDataModel::evaluate(const Expr& expr) {
  if (Status st = pushValue(expr); !st) return st;
  Result<json::Value> v = toJson(L_, -1);
  lua_pop(L_, 1);
  if (!v) {
    return Status(v.status().code(), "evaluating '" + expr.text + "': " + v.status().message());
  }
  return v;
}

Result<std::string> LuaDataModel::evaluateString(const Expr& expr) {
  if (Status st = pushValue(expr); !st) return st;
  int type = lua_type(L_, -1);
  if (type != LUA_TSTRING && type != LUA_TNUMBER && type != LUA_TBOOLEAN) {
    std::string msg = "'" + expr.text + "' is a " + luaL_typename(L_, -1) + ", not a string";
    lua_pop(L_, 1);
    return Status(ErrorCode::kInvalidArgument, msg);
  }
  std::string out;
  if (type == LUA_TBOOLEAN) {
    out = lua_toboolean(L_, -1) ? "true" : "false";
  } else {
    std::size_t len = 0;
    const char* s = lua_tolstring(L_, -1, &len);
    out.assign(s, len);
  }
  lua_pop(L_, 1);
  return out;
}

Status LuaDataModel::assign(const Expr& location, const Expr& expr) {
  // Refused before expr is evaluated, so a refused assignment has no side effects.
  if (Status st = checkAssignable(location); !st) return st;
  if (expr.empty()) {
    lua_pushnil(L_);
  } else if (Status st = pushValue(expr); !st) {
    return st;
  }
  return setLocation(location);
}

Status LuaDataModel::assignValue(const Expr& location, const json::Value& value) {
  pushJson(L_, value);
  return setLocation(location);
}

Status LuaDataModel::assignContent(const Expr& location, const Content& content) {
  if (content.body_is_markup) {
    lua_pushlstring(L_, content.body.data(), content.body.size());
  } else {
    Expr body;
    body.text = content.body;
    if (!pushValue(body)) pushInlineText(L_, content.body);
  }
  return setLocation(location);
}

Status LuaDataModel::runScript(const Expr& script) {
  if (Status st = pushCode(script, Kind::kScript); !st) return st;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, env_ref_);
  return call(1, 0, script);
}

Status LuaDataModel::forEach(const Expr& array, const Expr& item, const Expr& index,
                             const std::function<bool()>& body) {
  for (const Expr* loc : {&item, &index}) {
    if (loc->empty()) continue;
    if (Status st = checkAssignable(*loc); !st) return st;
    if (Status st = pushCode(*loc, Kind::kAssign); !st) return st;
    lua_pop(L_, 1);
  }
  if (Status st = pushValue(array); !st) return st;
  if (!lua_istable(L_, -1)) {
    std::string msg =
        "foreach array '" + array.text + "' is a " + luaL_typename(L_, -1) + ", not a table";
    lua_pop(L_, 1);
    return Status(ErrorCode::kInvalidArgument, msg);
  }
  // Iterate a shallow copy so the body may change the original freely.
  auto n = static_cast<lua_Integer>(lua_rawlen(L_, -1));
  lua_createtable(L_, static_cast<int>(n), 0);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L_, -2, i);
    lua_rawseti(L_, -2, i);
  }
  int copy_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_pop(L_, 1);
  Status result;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, copy_ref);
    lua_rawgeti(L_, -1, i);
    lua_remove(L_, -2);
    if (result = setLocation(item); !result) break;
    if (!index.empty()) {
      lua_pushinteger(L_, i);
      if (result = setLocation(index); !result) break;
    }
    if (!body()) break;
  }
  luaL_unref(L_, LUA_REGISTRYINDEX, copy_ref);
  return result;
}

json::Value LuaDataModel::snapshot() const {
  json::Object vars;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, env_ref_);
  lua_pushnil(L_);
  while (lua_next(L_, -2) != 0) {
    if (lua_type(L_, -2) == LUA_TSTRING) {
      // Functions and other non-data values are not part of the persisted state.
      if (auto v = toJson(L_, -1)) vars.emplace_back(lua_tostring(L_, -2), std::move(v).value());
    }
    lua_pop(L_, 1);
  }
  lua_pop(L_, 1);
  std::sort(vars.begin(), vars.end(),
            [](const json::Member& a, const json::Member& b) { return a.first < b.first; });
  return json::Value(std::move(vars));
}

Status LuaDataModel::restore(const json::Value& snapshot) {
  if (snapshot.isNull()) return Status::ok();
  if (!snapshot.isObject()) {
    return Status(ErrorCode::kInvalidArgument, "a Lua datamodel snapshot must be an object");
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, env_ref_);
  for (const auto& [key, value] : snapshot.asObject()) {
    if (isSystemKey(key.c_str())) continue;
    lua_pushlstring(L_, key.data(), key.size());
    pushJson(L_, value);
    lua_rawset(L_, -3);
  }
  lua_pop(L_, 1);
  return Status::ok();
}

}  // namespace tramite::scxml
