#include "tramite/scenario/scenario.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "tramite/audit/merkle.h"
#include "tramite/calendar/calendar.h"
#include "tramite/file.h"
#include "tramite/json.h"
#include "tramite/lifecycle/task_lifecycle.h"
#include "tramite/runtime/directory.h"
#include "tramite/runtime/documents.h"
#include "tramite/runtime/engine.h"
#include "tramite/text.h"
#include "tramite/workers/notifications.h"

namespace tramite::scenario {

namespace fs = std::filesystem;

namespace {

// A scenario that is not well formed: thrown while reading a step, caught once per file.
struct Malformed {
  int line;
  std::string message;
};

int lineOf(const YAML::Node& n) {
  return n.Mark().line + 1;
}

std::string text(const YAML::Node& n) {
  return n.IsScalar() ? n.Scalar() : YAML::Dump(n);
}

// A YAML value as JSON: scalars that read as integers, numbers, true/false or null become
// those; quoted scalars stay strings.
json::Value toJson(const YAML::Node& n) {
  if (!n || n.IsNull()) return json::Value();
  if (n.IsSequence()) {
    json::Array a;
    for (const YAML::Node& e : n) a.push_back(toJson(e));
    return json::Value(std::move(a));
  }
  if (n.IsMap()) {
    json::Object o;
    for (const auto& kv : n) o.emplace_back(kv.first.Scalar(), toJson(kv.second));
    return json::Value(std::move(o));
  }
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return json::Value(s);  // quoted
  if (s == "true" || s == "false") return json::Value(s == "true");
  if (s == "null" || s == "~") return json::Value();
  if (auto parsed = json::parse(s); parsed && (parsed->isNumber())) return *parsed;
  return json::Value(s);
}

std::string str(const YAML::Node& map, const char* key, bool required = true) {
  const YAML::Node v = map[key];
  if (!v) {
    if (required) throw Malformed{lineOf(map), std::string("'") + key + "' is required here"};
    return "";
  }
  if (!v.IsScalar()) throw Malformed{lineOf(v), std::string("'") + key + "' must be a value"};
  return v.Scalar();
}

long long integer(const YAML::Node& map, const char* key) {
  const std::string s = str(map, key);
  try {
    std::size_t used = 0;
    const long long n = std::stoll(s, &used);
    if (used == s.size()) return n;
  } catch (const std::exception&) {
  }
  throw Malformed{lineOf(map[key]),
                  std::string("'") + key + "' must be a whole number, not '" + s + "'"};
}

// The first millisecond of the local day d on cal, in UTC ms.
TimePoint startOfDay(const calendar::Date& d, const calendar::BusinessCalendar& cal) {
  return cal.endOfDayMs(d) + 1 - 86'400'000;
}

// "YYYY-MM-DD HH:MM" (local time on cal: El Salvador's) as UTC milliseconds.
TimePoint localTime(const YAML::Node& n, const calendar::BusinessCalendar& cal) {
  const std::string s = text(n);
  auto date = calendar::Date::parse(s.substr(0, 10));
  int hour = 0;
  int minute = 0;
  const bool timed = s.size() == 16 && s[10] == ' ' && s[13] == ':' &&
                     std::sscanf(s.c_str() + 11, "%2d:%2d", &hour, &minute) == 2;
  if (!date || !(s.size() == 10 || timed) || hour > 23 || minute > 59) {
    throw Malformed{lineOf(n), "a time is 'YYYY-MM-DD HH:MM' (local), not '" + s + "'"};
  }
  return startOfDay(*date, cal) + hour * 3'600'000LL + minute * 60'000LL;
}

std::string list(const std::vector<std::string>& v) {
  return "[" + join(v, ", ") + "]";
}

class Runner {
 public:
  Runner(std::string file, const ScenarioOptions& options, std::shared_ptr<storage::Store> store)
      : file_(std::move(file)), options_(options), store_(std::move(store)) {}

  Result<ScenarioResult> run() {
    ScenarioResult result;
    result.file = file_;
    YAML::Node doc;
    try {
      doc = YAML::LoadFile(file_);
    } catch (const YAML::ParserException& e) {
      return Status(ErrorCode::kInvalidArgument,
                    file_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    } catch (const YAML::Exception& e) {
      return Status(ErrorCode::kInvalidArgument, file_ + ": " + e.what());
    }
    try {
      if (!doc.IsMap()) throw Malformed{1, "a scenario is a map: workflow, clock, steps"};
      if (Status st = setUp(doc); !st) return st;
      const YAML::Node steps = doc["steps"];
      if (!steps || !steps.IsSequence()) throw Malformed{lineOf(doc), "'steps' is a list"};
      for (const YAML::Node& step : steps) {
        ++result.steps;
        if (!runStep(step)) break;
      }
    } catch (const Malformed& m) {
      return Status(ErrorCode::kInvalidArgument,
                    file_ + ":" + std::to_string(m.line) + ": " + m.message);
    } catch (const YAML::Exception& e) {
      return Status(ErrorCode::kInvalidArgument,
                    file_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    result.failures = std::move(failures_);
    return result;
  }

 private:
  Status setUp(const YAML::Node& doc) {
    workflow_ = str(doc, "workflow");
    const fs::path root(options_.root);
    auto cal = calendar::loadCalendarFile((root / "config" / "calendar.json").string());
    if (!cal) return cal.status();
    calendar_ = std::make_shared<const calendar::BusinessCalendar>(*cal);
    if (doc["clock"]) clock_.set(localTime(doc["clock"], *calendar_));
    runtime::EngineOptions engine_options;
    engine_options.calendar = calendar_;
    for (const auto& entry : fs::directory_iterator(root / "templates")) {
      if (entry.path().extension() != ".mustache") continue;
      auto body = readFile(entry.path().string(), "template");
      if (!body) return body.status();
      engine_options.templates[entry.path().stem().string()] = *body;
    }
    engine_ = std::make_unique<runtime::Engine>(store_, clock_, engine_options);
    auto dir = runtime::loadDirectoryFile((root / "config" / "directory.json").string());
    if (!dir) return dir.status();
    if (Status st = engine_->importDirectory(*dir, "scenario"); !st) return st;
    auto xml = readFile((root / "workflows" / (workflow_ + ".scxml")).string(), "workflow");
    if (!xml) return xml.status();
    // The same bytes deploy once: a store kept across runs keeps its versions.
    auto known = engine_->versions(workflow_);
    if (!known) return known.status();
    const std::string sha = audit::sha256Hex(*xml);
    const bool deployed =
        std::any_of(known->begin(), known->end(),
                    [&](const storage::DefinitionRecord& d) { return d.sha256 == sha; });
    if (!deployed) {
      auto d = engine_->deploy(workflow_, *xml, "admin");
      if (!d) return d.status();
    }
    return Status::ok();
  }

  void fail(const YAML::Node& where, std::string message) {
    failures_.push_back(ScenarioFailure{file_, lineOf(where), std::move(message)});
  }

  // Runs one step; false when the scenario cannot go on.
  bool runStep(const YAML::Node& step) {
    if (!step.IsMap() || step.size() != 1) {
      throw Malformed{lineOf(step),
                      "a step is one action: start, claim, complete, approve, "
                      "reject, release, delegate, forward, skip, upload, "
                      "advance or expect"};
    }
    const std::string action = step.begin()->first.Scalar();
    const YAML::Node args = step.begin()->second;
    if (action == "expect") {
      expect(args);
      return true;
    }
    if (action == "advance") {
      advance(args);
      return settle(args);
    }
    Status outcome = act(action, args);
    const std::string refused = args.IsMap() ? str(args, "refused", false) : "";
    if (!refused.empty()) {
      const std::string got = outcome ? "success" : std::string(errorCodeName(outcome.code()));
      if (got != refused) {
        fail(args, "expected " + action + " to be refused (" + refused + "), got " + got +
                       (outcome ? "" : ": " + outcome.message()));
      }
      return settle(args);
    }
    if (!outcome) {
      fail(args, "expected " + action + " to succeed, got " +
                     std::string(errorCodeName(outcome.code())) + ": " + outcome.message());
      return false;
    }
    return settle(args);
  }

  // After each action: due timers fire, and the notification consumer catches up.
  bool settle(const YAML::Node& where) {
    Status st = engine_->runPending();
    if (st) {
      workers::ConsumerRun run;
      run.holder = "scenario";
      run.now = clock_.nowMs();
      st = workers::runConsumer(*store_, notifications_, run).status();
    }
    if (!st) fail(where, "expected the engine to settle, got " + st.toString());
    return static_cast<bool>(st);
  }

  Status act(const std::string& action, const YAML::Node& args) {
    if (!args.IsMap()) throw Malformed{lineOf(args), action + " takes a map of arguments"};
    if (action == "start") return start(args);
    if (action == "upload") return upload(args);
    static const std::map<std::string, runtime::TaskOp> ops = {
        {"claim", runtime::TaskOp::kClaim},       {"release", runtime::TaskOp::kRelease},
        {"complete", runtime::TaskOp::kComplete}, {"approve", runtime::TaskOp::kComplete},
        {"reject", runtime::TaskOp::kComplete},   {"delegate", runtime::TaskOp::kDelegate},
        {"forward", runtime::TaskOp::kForward},   {"skip", runtime::TaskOp::kSkip}};
    auto op = ops.find(action);
    if (op == ops.end()) throw Malformed{lineOf(args), "unknown action '" + action + "'"};
    runtime::TaskAction a;
    a.op = op->second;
    a.actor = str(args, "as");
    if (action == "approve" || action == "reject") a.decision = action;
    if (args["decision"]) a.decision = str(args, "decision");
    a.comment = str(args, "comment", false);
    a.reason = str(args, "reason", false);
    if (args["form"]) a.form = toJson(args["form"]);
    if (action == "delegate") a.to_user = str(args, "to");
    if (action == "forward") {
      for (const YAML::Node& p : args["to"]) a.to.push_back(p.Scalar());
    }
    auto task = openTask(str(args, "task"), a.actor);
    if (!task) return task.status();
    return engine_->actOnTask(*task, a).status();
  }

  Status start(const YAML::Node& args) {
    runtime::StartRequest req;
    req.definition = workflow_;
    req.business_key = str(args, "key");
    req.actor = str(args, "as");
    req.data = toJson(args["data"]);
    auto v = engine_->start(req);
    if (v) instance_ = v->id;
    return v.status();
  }

  Status upload(const YAML::Node& args) {
    runtime::DocumentUpload u;
    u.instance_id = instance_;
    u.name = str(args, "document");
    u.actor = str(args, "as");
    u.content_type = str(args, "type", false);
    if (u.content_type.empty()) u.content_type = "application/pdf";
    u.filename = str(args, "filename", false);
    if (args["file"]) {
      auto bytes = readFile((fs::path(options_.root) / str(args, "file")).string(), "document");
      if (!bytes) return bytes.status();
      u.bytes = *bytes;
    } else {
      u.bytes = str(args, "content");
    }
    if (args["task"]) {
      auto task = openTask(str(args, "task"), u.actor);
      if (!task) return task.status();
      u.task_id = *task;
    }
    return engine_->attachDocument(u).status();
  }

  void advance(const YAML::Node& args) {
    if (!args.IsMap())
      throw Malformed{lineOf(args), "advance takes hours, days, business_days or to"};
    TimePoint now = clock_.nowMs();
    if (args["to"]) {
      const TimePoint to = localTime(args["to"], *calendar_);
      if (to < now) throw Malformed{lineOf(args["to"]), "the clock never goes back"};
      now = to;
    } else if (args["hours"]) {
      now += integer(args, "hours") * 3'600'000;
    } else if (args["days"]) {
      now += integer(args, "days") * 86'400'000;
    } else if (args["business_days"]) {
      // The same time of day, n business days later: the calendar's own count of a term.
      const calendar::Date today = calendar_->dateOf(now);
      const long long n = integer(args, "business_days");  // due() refuses 0 and > 3660
      auto later = calendar_->due(today, static_cast<int>(std::clamp(n, 0LL, 100'000LL)));
      if (!later) throw Malformed{lineOf(args["business_days"]), later.status().message()};
      now = startOfDay(*later, *calendar_) + (now - startOfDay(today, *calendar_));
    } else {
      throw Malformed{lineOf(args), "advance takes hours, days, business_days or to"};
    }
    clock_.set(now);
  }

  // The open task of the case named name that actor would act on: theirs if one is, else
  // the first offered.
  Result<std::string> openTask(const std::string& name, const std::string& actor) {
    auto tasks = engine_->tasksOf(instance_);
    if (!tasks) return tasks.status();
    std::optional<std::string> offered;
    for (const runtime::TaskView& t : *tasks) {
      if (t.name != name || !isOpen(t.status)) continue;
      if (t.owner == actor) return t.id;
      if (!offered) offered = t.id;
    }
    if (offered) return *offered;
    return Status(ErrorCode::kNotFound, "the case has no open task '" + name + "'");
  }

  static bool isOpen(const std::string& status) {
    auto state = runtime::parseTaskState(status);
    return state && !runtime::isTaskFinal(*state);
  }

  // ---- expectations ----

  void expect(const YAML::Node& args) {
    if (!args.IsMap()) throw Malformed{lineOf(args), "expect takes a map of expectations"};
    for (const auto& kv : args) {
      const std::string what = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (what == "state" || what == "lifecycle" || what == "data") {
        expectInstance(what, v);
      } else if (what == "task") {
        expectTask(v);
      } else if (what == "queue") {
        expectQueue(v);
      } else if (what == "notifications") {
        expectNotifications(v);
      } else if (what == "history") {
        expectHistory(v);
      } else if (what == "documents") {
        expectDocuments(v);
      } else {
        throw Malformed{lineOf(kv.first), "unknown expectation '" + what +
                                              "' (state, lifecycle, data, task, queue, "
                                              "notifications, history, documents)"};
      }
    }
  }

  void expectInstance(const std::string& what, const YAML::Node& v) {
    auto inst = engine_->get(instance_);
    if (!inst) return fail(v, "expected a case, got " + inst.status().toString());
    if (what == "state") {
      std::vector<std::string> wanted;
      if (v.IsSequence()) {
        for (const YAML::Node& s : v) wanted.push_back(s.Scalar());
      } else {
        wanted.push_back(text(v));
      }
      for (const std::string& s : wanted) {
        if (std::find(inst->configuration.begin(), inst->configuration.end(), s) ==
            inst->configuration.end()) {
          fail(v, "expected state '" + s + "', got " + list(inst->configuration));
        }
      }
    } else if (what == "lifecycle") {
      if (inst->lifecycle != text(v)) {
        fail(v, "expected lifecycle '" + text(v) + "', got '" + inst->lifecycle + "'");
      }
    } else {
      if (!v.IsMap()) throw Malformed{lineOf(v), "data is a map of variables and values"};
      for (const auto& kv : v) {
        const std::string name = kv.first.Scalar();
        const json::Value wanted = toJson(kv.second);
        const json::Value* got = inst->data.find(name);
        if (!got || !(*got == wanted)) {
          fail(kv.second, "expected data " + name + " = " + json::dump(wanted) + ", got " +
                              (got ? json::dump(*got) : std::string("nothing")));
        }
      }
    }
  }

  // The task of the case named name: the open one, else the one created last.
  std::optional<runtime::TaskView> latestTask(const std::string& name) {
    auto tasks = engine_->tasksOf(instance_);
    if (!tasks) return std::nullopt;
    std::optional<runtime::TaskView> out;
    for (const runtime::TaskView& t : *tasks) {
      if (t.name != name) continue;
      if (isOpen(t.status)) return t;
      out = t;
    }
    return out;
  }

  void expectTask(const YAML::Node& v) {
    const std::string name = str(v, "name");
    auto t = latestTask(name);
    if (!t) return fail(v, "expected a task '" + name + "', got none");
    auto check = [&](const char* key, const std::string& got) {
      if (!v[key]) return;
      const std::string wanted = str(v, key);
      if (wanted != got) {
        fail(v[key], std::string("expected task ") + name + " " + key + " '" + wanted + "', got '" +
                         got + "'");
      }
    };
    check("status", t->status);
    check("owner", t->owner);
    check("due", t->due_date);
    check("overdue", t->overdue ? "true" : "false");
    if (v["field"]) {
      for (const auto& kv : v["field"]) {
        const json::Value* got = t->result.find("form");
        const json::Value* value = got ? got->find(kv.first.Scalar()) : nullptr;
        const json::Value wanted = toJson(kv.second);
        if (!value || !(*value == wanted)) {
          fail(kv.second, "expected task " + name + " field " + kv.first.Scalar() + " = " +
                              json::dump(wanted) + ", got " +
                              (value ? json::dump(*value) : std::string("nothing")));
        }
      }
    }
  }

  void expectQueue(const YAML::Node& v) {
    runtime::QueueRequest req;
    req.user = str(v, "user");
    const std::string view = str(v, "view", false);
    req.view = view == "group" ? runtime::QueueView::kGroup
               : view == "all" ? runtime::QueueView::kAll
                               : runtime::QueueView::kPersonal;
    req.overdue = str(v, "overdue", false) == "true";
    req.limit = 500;
    auto page = engine_->queue(req);
    if (!page) return fail(v, "expected a queue, got " + page.status().toString());
    std::vector<std::string> names;
    for (const runtime::TaskView& t : page->tasks) {
      if (t.instance_id == instance_) names.push_back(t.name);
    }
    if (v["has"] && std::find(names.begin(), names.end(), str(v, "has")) == names.end()) {
      fail(v["has"],
           "expected " + req.user + "'s queue to have " + str(v, "has") + ", got " + list(names));
    }
    if (v["lacks"] && std::find(names.begin(), names.end(), str(v, "lacks")) != names.end()) {
      fail(v["lacks"],
           "expected " + req.user + "'s queue without " + str(v, "lacks") + ", got " + list(names));
    }
  }

  void expectNotifications(const YAML::Node& v) {
    const std::string user = str(v, "user");
    workers::NotificationInbox inbox(*store_, clock_);
    auto page = inbox.list(user, false, 0, 200);
    if (!page) return fail(v, "expected notifications, got " + page.status().toString());
    std::vector<storage::NotificationRecord> mine;
    for (const auto& n : page->items) {
      if (n.instance_id == instance_ && (!v["kind"] || n.kind == str(v, "kind"))) {
        mine.push_back(n);
      }
    }
    if (v["count"] && static_cast<long long>(mine.size()) != integer(v, "count")) {
      std::vector<std::string> subjects;
      subjects.reserve(mine.size());
      for (const auto& n : mine) subjects.push_back(n.subject);
      fail(v["count"], "expected " + str(v, "count") + " notifications for " + user + ", got " +
                           std::to_string(mine.size()) + " " + list(subjects));
    }
    if (v["contains"]) {
      const std::string part = str(v, "contains");
      const bool found = std::any_of(mine.begin(), mine.end(), [&](const auto& n) {
        return n.subject.find(part) != std::string::npos || n.body.find(part) != std::string::npos;
      });
      if (!found) {
        fail(v["contains"], "expected a notification for " + user + " saying '" + part + "', got " +
                                std::to_string(mine.size()) + " without it");
      }
    }
  }

  void expectHistory(const YAML::Node& v) {
    auto rows = engine_->history(instance_);
    if (!rows) return fail(v, "expected history, got " + rows.status().toString());
    const std::string kind = str(v, "kind");
    const std::string op = str(v, "op", false);
    long long count = 0;
    for (const storage::HistoryRecord& r : *rows) {
      if (r.kind != kind) continue;
      if (!op.empty()) {
        auto detail = json::parse(r.detail);
        const json::Value* o = detail ? detail->find("op") : nullptr;
        if (!o || !o->isString() || o->asString() != op) continue;
      }
      ++count;
    }
    if (count != integer(v, "count")) {
      fail(v["count"], "expected " + str(v, "count") + " history rows " + kind +
                           (op.empty() ? "" : "/" + op) + ", got " + std::to_string(count));
    }
  }

  void expectDocuments(const YAML::Node& v) {
    auto docs = engine_->documents(instance_);
    if (!docs) return fail(v, "expected documents, got " + docs.status().toString());
    const std::string name = str(v, "name");
    long long versions = 0;
    for (const runtime::DocumentView& d : *docs) versions += d.document.name == name ? 1 : 0;
    if (v["versions"] && versions != integer(v, "versions")) {
      fail(v["versions"], "expected " + str(v, "versions") + " versions of " + name + ", got " +
                              std::to_string(versions));
    }
  }

  std::string file_;
  const ScenarioOptions& options_;
  std::shared_ptr<storage::Store> store_;
  ManualClock clock_;
  std::shared_ptr<const calendar::BusinessCalendar> calendar_;
  std::unique_ptr<runtime::Engine> engine_;
  workers::NotificationConsumer notifications_;
  std::string workflow_;
  std::string instance_;
  std::vector<ScenarioFailure> failures_;
};

}  // namespace

Result<ScenarioResult> runScenarioFile(const std::string& path, const ScenarioOptions& options) {
  std::string uri;
  fs::path scratch;
  if (!options.data_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options.data_dir, ec);
    uri = storage::dataDirStoreUri(options.data_dir);
  } else {
    scratch = fs::temp_directory_path() / ("tramite-scenario-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(std::hash<std::string>{}(path)));
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    uri = storage::dataDirStoreUri(scratch.string());
  }
  auto store = storage::openStore(uri);
  if (!store) return store.status();
  Result<ScenarioResult> result =
      Runner(path, options, std::shared_ptr<storage::Store>(std::move(store).value())).run();
  if (!scratch.empty()) fs::remove_all(scratch);
  return result;
}

}  // namespace tramite::scenario
