#include "commands.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tramite/calendar/calendar.h"
#include "tramite/json.h"
#include "tramite/scxml/duration.h"
#include "tramite/scxml/parser.h"
#include "tramite/scxml/runner.h"
#include "tramite/workflow/vocabulary.h"

namespace tramite::cli {

namespace {

constexpr const char* kUsage =
    "usage: tramite <command> [options]\n"
    "\n"
    "commands:\n"
    "  validate FILE...                 check SCXML documents; problems as FILE:LINE: message\n"
    "  simulate FILE [--events ITEMS] [--events-file F] [--data JSON]\n"
    "                                   run a document on a virtual clock, one JSON line per item\n"
    "  calendar due --from YYYY-MM-DD (--business-days N | --calendar-days N)\n"
    "               [--calendar FILE]   the due date of a term (LPA art. 82), using the\n"
    "                                   configured calendar (default: config/calendar.json)\n"
    "  scenario run FILE... [--data-dir DIR] [--root DIR]\n"
    "                                   play process scenarios (workflows/scenarios/*.yaml);\n"
    "                                   each failed step as FILE:LINE: expected ..., got ...\n"
    "  audit verify (--store URI | --data-dir DIR) [--key PUBLIC.pem]\n"
    "                                   check the audit ledger offline; names the first entry\n"
    "                                   altered, inserted, deleted or reordered; with\n"
    "                                   --witness RECORD or --trusted SIZE:ROOT, also a\n"
    "                                   rewrite or truncation re-signed with the key\n"
    "  audit witness (--store URI | --data-dir DIR) --key PUBLIC.pem --record RECORD\n"
    "                                   an auditor's append-only record of checkpoints, each\n"
    "                                   checked to extend the last one it saw\n"
    "  audit checkpoint (--store URI | --data-dir DIR) --key PRIVATE.pem\n"
    "                                   sign the ledger's current head\n"
    "  audit keygen --out PRIVATE.pem   make an Ed25519 checkpoint key; prints its public key\n"
    "  audit verify-bundle BUNDLE.zip --key PUBLIC.pem [--trust CA.pem]\n"
    "                                   check an expediente bundle offline: its documents,\n"
    "                                   signatures, history and ledger proofs\n"
    "  serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--daemon]\n"
    "                                   serve the API (see tramite serve --help)\n"
    "  openapi                          print the API's OpenAPI 3 document (as served at\n"
    "                                   GET /api/v1/openapi.json)\n"
    "  help                             show this text\n";

// One simulation step: an event to send, or a clock advance.
struct Item {
  bool is_advance = false;
  std::int64_t advance_ms = 0;
  std::string label;  // as printed in the "event" field
  scxml::Event event;
};

Result<Item> parseAdvance(const std::string& text, std::string label) {
  auto ms = scxml::parseDurationMs(text);
  if (!ms) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid duration '" + text + "' (use e.g. 100ms, 2s, 5m, 1h, 3d)");
  }
  Item item;
  item.is_advance = true;
  item.advance_ms = *ms;
  item.label = std::move(label);
  return item;
}

Result<std::vector<Item>> parseItems(const std::string& list) {
  std::vector<Item> items;
  std::stringstream ss(list);
  std::string token;
  while (std::getline(ss, token, ',')) {
    auto b = token.find_first_not_of(" \t");
    auto e = token.find_last_not_of(" \t");
    if (b == std::string::npos) {
      return Status(ErrorCode::kInvalidArgument, "empty item in --events");
    }
    token = token.substr(b, e - b + 1);
    if (token[0] == '+') {
      auto item = parseAdvance(token.substr(1), token);
      if (!item) return item.status();
      items.push_back(std::move(item).value());
    } else {
      Item item;
      item.label = token;
      item.event = scxml::Event::external(token);
      items.push_back(std::move(item));
    }
  }
  return items;
}

Result<std::vector<Item>> parseItemsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kNotFound, "cannot open events file " + path);
  std::vector<Item> items;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto where = [&](const std::string& msg) {
      return Status(ErrorCode::kInvalidArgument, path + ":" + std::to_string(n) + ": " + msg);
    };
    auto v = json::parse(line);
    if (!v) return where(v.status().message());
    if (!v->isObject()) return where("each line must be a JSON object");
    if (const json::Value* adv = v->find("advance")) {
      if (!adv->isString() || v->asObject().size() != 1) {
        return where("an advance line is {\"advance\": \"100ms\"}");
      }
      auto item = parseAdvance(adv->asString(), "+" + adv->asString());
      if (!item) return where(item.status().message());
      items.push_back(std::move(item).value());
      continue;
    }
    const json::Value* name = v->find("name");
    if (!name || !name->isString() || name->asString().empty()) {
      return where("an event line needs a non-empty \"name\"");
    }
    for (const auto& [key, value] : v->asObject()) {
      if (key != "name" && key != "data") return where("unknown member '" + key + "'");
    }
    Item item;
    item.label = name->asString();
    const json::Value* data = v->find("data");
    item.event = scxml::Event::external(name->asString(), data ? *data : json::Value());
    items.push_back(std::move(item));
  }
  return items;
}

void printLine(std::ostream& out, const json::Value& event, scxml::Runner& runner,
               const std::string& session) {
  json::Array config;
  for (auto& s : runner.configuration(session)) config.emplace_back(s);
  json::Value line(json::Object{{"event", event},
                                {"configuration", json::Value(std::move(config))},
                                {"finished", runner.isFinished(session)}});
  out << json::dump(line) << '\n';
}

}  // namespace

int validateCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << "usage: tramite validate FILE...\n";
    return 2;
  }
  bool all_ok = true;
  for (const auto& file : args) {
    scxml::ParseResult r = scxml::parseFile(file, workflow::parseOptions());
    if (!r.ok()) {
      all_ok = false;
      err << r.errorText();
    }
  }
  if (all_ok) out << args.size() << (args.size() == 1 ? " document" : " documents") << " valid\n";
  return all_ok ? 0 : 1;
}

int simulateCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string file;
  std::vector<Item> items;
  json::Value data;
  bool has_items = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) {
        err << "tramite simulate: " << a << " needs a value\n";
        return false;
      }
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "--events" || a == "--events-file") {
      if (!value(&v)) return 2;
      auto parsed = a == "--events" ? parseItems(v) : parseItemsFile(v);
      if (!parsed) {
        err << "tramite simulate: " << parsed.status().message() << '\n';
        return 2;
      }
      for (auto& item : *parsed) items.push_back(std::move(item));
      has_items = true;
    } else if (a == "--data") {
      if (!value(&v)) return 2;
      auto parsed = json::parse(v);
      if (!parsed || !parsed->isObject()) {
        err << "tramite simulate: --data must be a JSON object"
            << (parsed ? "" : ": " + parsed.status().message()) << '\n';
        return 2;
      }
      data = std::move(parsed).value();
    } else if (!a.empty() && a[0] == '-') {
      err << "tramite simulate: unknown option " << a << '\n';
      return 2;
    } else if (file.empty()) {
      file = a;
    } else {
      err << "tramite simulate: only one document may be simulated\n";
      return 2;
    }
  }
  if (file.empty()) {
    err << "usage: tramite simulate FILE [--events ITEMS] [--events-file F] [--data JSON]\n";
    return 2;
  }
  scxml::ParseResult parsed = scxml::parseFile(file, workflow::parseOptions());
  if (!parsed.ok()) {
    err << parsed.errorText();
    return 1;
  }
  scxml::Runner::Options options;
  options.on_log = [&err](const std::string&, const scxml::LogAction& log) {
    err << "log: " << log.label << (log.label.empty() || log.text.empty() ? "" : ": ") << log.text
        << '\n';
  };
  scxml::Runner runner(options);
  auto session = runner.start(parsed.chart, data.isNull() ? nullptr : &data);
  if (!session) {
    err << "tramite simulate: " << session.status().message() << '\n';
    return 1;
  }
  auto settle = [&]() -> bool {
    if (Status st = runner.runUntilIdle(); !st) {
      err << "tramite simulate: " << st.message() << '\n';
      return false;
    }
    return true;
  };
  if (!settle()) return 1;
  printLine(out, json::Value(), runner, *session);

  if (has_items) {
    for (const Item& item : items) {
      if (item.is_advance) {
        if (Status st = runner.advance(item.advance_ms); !st) {
          err << "tramite simulate: " << st.message() << '\n';
          return 1;
        }
      } else {
        (void)runner.send(*session, item.event);
        if (!settle()) return 1;
      }
      printLine(out, json::Value(item.label), runner, *session);
    }
    return 0;
  }
  // No items: let time run until the document finishes or nothing is pending.
  TimePoint start = runner.now();
  while (!runner.isFinished(*session)) {
    auto advanced = runner.advanceToNextTimer();
    if (!advanced) {
      err << "tramite simulate: " << advanced.status().message() << '\n';
      return 1;
    }
    if (!*advanced) break;
  }
  printLine(out, json::Value("+" + std::to_string(runner.now() - start) + "ms"), runner, *session);
  return 0;
}

int calendarCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& why) {
    err << "tramite calendar: " << why << "\n" << kUsage;
    return 2;
  };
  if (args.empty() || args[0] != "due") return usage("the only subcommand is 'due'");
  std::string from;
  std::string count;
  std::string file;
  calendar::TermUnit unit = calendar::TermUnit::kBusinessDays;
  int counts = 0;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) return usage("option " + a + " needs a value");
    const std::string& v = args[++i];
    if (a == "--from") {
      from = v;
    } else if (a == "--business-days" || a == "--calendar-days") {
      count = v;
      ++counts;
      unit = a == "--business-days" ? calendar::TermUnit::kBusinessDays
                                    : calendar::TermUnit::kCalendarDays;
    } else if (a == "--calendar") {
      file = v;
    } else {
      return usage("unknown option " + a);
    }
  }
  if (from.empty() || counts != 1) {
    return usage("give --from and one of --business-days or --calendar-days");
  }
  auto notified = calendar::Date::parse(from);
  if (!notified) return usage(notified.status().message());
  if (count.empty() || count.find_first_not_of("0123456789") != std::string::npos ||
      count.size() > 4) {
    return usage("'" + count + "' is not a number of days");
  }
  if (file.empty()) {
    const char* dir = std::getenv("TRAMITE_CONFIG_DIR");
    file = std::string(dir ? dir : "config") + "/calendar.json";
  }
  auto cal = calendar::loadCalendarFile(file);
  if (!cal) {
    err << "tramite calendar: " << cal.status().message() << "\n";
    return 1;
  }
  const int n = std::stoi(count);
  auto due = cal->due(*notified, n, unit);
  if (!due) {
    err << "tramite calendar: " << due.status().message() << "\n";
    return 1;
  }
  out << due->toString() << " (" << calendar::weekdayName(*due) << "): " << n
      << (unit == calendar::TermUnit::kBusinessDays ? " business" : " calendar") << " day"
      << (n == 1 ? "" : "s") << " after notification on " << notified->toString()
      << ", counted from " << notified->plusDays(1).toString();
  std::string closed;
  for (calendar::Date d = notified->plusDays(1); d < *due; d = d.plusDays(1)) {
    std::string why = cal->reasonClosed(d);
    if (!why.empty()) closed += (closed.empty() ? "" : ", ") + d.toString() + " " + why;
  }
  if (!closed.empty()) {
    out << (unit == calendar::TermUnit::kBusinessDays ? "; not counted: " : "; non-business: ")
        << closed;
  }
  out << "\n";
  return 0;
}

int runMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "validate") return validateCommand(rest, out, err);
  if (args[0] == "simulate") return simulateCommand(rest, out, err);
  if (args[0] == "calendar") return calendarCommand(rest, out, err);
  if (args[0] == "audit") return auditCommand(rest, out, err);
  if (args[0] == "scenario") return scenarioCommand(rest, out, err);
  err << "tramite: unknown command '" << args[0] << "'\n" << kUsage;
  return 2;
}

}  // namespace tramite::cli
