// Runs the W3C SCXML IRP conformance tests (a transformed variant) through the in-process
// runner on a virtual clock. Rule (suite README): a test passes iff its document reaches the
// top-level final state "pass". Manual tests are excluded. Prints one line per test and a
// closing "N passed, M failed" line.
//
// The BasicHTTP Event I/O Processor is the server's (api/basichttp.h): sessions receive at
// http://127.0.0.1:PORT/basichttp/<session id> on a real loopback server (no authentication
// in this harness) and their BasicHTTP sends are real POSTs to allow-listed 127.0.0.1.
//
// usage: w3c_conformance --suite DIR --variant lua|null-derived [--known FILE] [--only ID]
// exit: 0 all as expected; 1 a regression or a stale known-failure entry; 77 suite absent.
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tramite/api/basichttp.h"
#include "tramite/api/server.h"
#include "tramite/scxml/parser.h"
#include "tramite/scxml/runner.h"

namespace fs = std::filesystem;
using namespace tramite;

namespace {

constexpr int kSkip = 77;
constexpr std::int64_t kVirtualTimeoutMs = 60'000;

struct TestCase {
  std::string id;
  std::string conformance;  // mandatory | optional
  std::vector<fs::path> files;
};

std::vector<std::string> splitTabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, '\t')) out.push_back(cell);
  return out;
}

// Automatic tests of the manifest, as listed in INDEX.tsv.
std::map<std::string, std::string> automaticTests(const fs::path& suite) {
  std::map<std::string, std::string> out;
  std::ifstream in(suite / "INDEX.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto cells = splitTabs(line);
    if (cells.size() < 3) continue;
    if (cells[2].find("manual") != std::string::npos) continue;
    out[cells[0]] = cells[2];
  }
  return out;
}

std::vector<TestCase> collect(const fs::path& dir,
                              const std::map<std::string, std::string>& automatic) {
  std::map<std::string, TestCase> cases;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("test", 0) != 0 || entry.path().extension() != ".scxml") continue;
    std::string stem = entry.path().stem().string().substr(4);
    // test403a.scxml belongs to test 403; sub-documents (test226sub1) are not tests.
    std::size_t digits = 0;
    while (digits < stem.size() && std::isdigit(static_cast<unsigned char>(stem[digits]))) ++digits;
    if (digits == 0) continue;
    std::string id = stem.substr(0, digits);
    std::string suffix = stem.substr(digits);
    if (!(suffix.empty() ||
          (suffix.size() == 1 && std::isalpha(static_cast<unsigned char>(suffix[0]))))) {
      continue;
    }
    // The index lists some variants as tests of their own (403a, 403b, 403c).
    auto it = automatic.find(id + suffix);
    if (it != automatic.end()) {
      id += suffix;
    } else {
      it = automatic.find(id);
    }
    if (it == automatic.end()) continue;
    TestCase& tc = cases[id];
    tc.id = id;
    tc.conformance = it->second;
    tc.files.push_back(entry.path());
  }
  std::vector<TestCase> out;
  for (auto& [id, tc] : cases) {
    std::sort(tc.files.begin(), tc.files.end());
    out.push_back(std::move(tc));
  }
  std::sort(out.begin(), out.end(), [](const TestCase& a, const TestCase& b) {
    int na = std::stoi(a.id);
    int nb = std::stoi(b.id);
    return na != nb ? na < nb : a.id < b.id;
  });
  return out;
}

std::map<std::string, std::string> readKnown(const fs::path& file) {
  std::map<std::string, std::string> known;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.find(' ');
    known[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return known;
}

// Events POSTed to the harness's BasicHTTP endpoint, waiting for the runner's thread.
class HttpInbox {
 public:
  HttpInbox()
      : server_([this](const api::HttpRequest& r, api::RequestInfo*) { return receive(r); },
                options()),
        client_({"127.0.0.1"}, 5'000) {}

  Status start() { return server_.start(); }
  std::string base() const { return server_.url() + "/basichttp"; }
  const api::BasicHttpClient& client() const { return client_; }

  // Moves every received event into the runner; false when there was none.
  bool deliver(scxml::Runner& runner) {
    std::deque<std::pair<std::string, scxml::Event>> ready;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready.swap(events_);
    }
    for (auto& [session, event] : ready) (void)runner.send(session, std::move(event));
    return !ready.empty();
  }

 private:
  static api::ServerOptions options() {
    api::ServerOptions o;
    o.port = 0;
    o.log_requests = false;
    return o;
  }
  api::HttpResponse receive(const api::HttpRequest& r) {
    const std::string prefix = "/basichttp/";
    api::HttpResponse out;
    if (r.method != "POST" || r.path.rfind(prefix, 0) != 0) {
      out.status = 404;
      return out;
    }
    std::lock_guard<std::mutex> lock(mu_);
    events_.emplace_back(r.path.substr(prefix.size()), api::decodeBasicHttp(r));
    out.body = "{}";
    return out;
  }

  std::mutex mu_;
  std::deque<std::pair<std::string, scxml::Event>> events_;
  api::Server server_;
  api::BasicHttpClient client_;
};

// Runs one document; returns "" on pass, else why not.
std::string runOne(const fs::path& file, HttpInbox& http) {
  scxml::ParseResult parsed = scxml::parseFile(file.string());
  if (!parsed.ok()) return "rejected: " + parsed.errorText();
  scxml::Runner::Options options;
  options.basichttp_base = http.base();
  scxml::Runner* self = nullptr;
  options.external_send = [&](const std::string&, const scxml::SendAction& send) {
    Status posted = http.client().post(send.target_id, send.event);
    // The POST has been answered, so its event is in the inbox: it joins the external queue
    // now, behind what the session queued before the send and ahead of what comes after.
    if (posted) http.deliver(*self);
    return posted;
  };
  scxml::Runner runner(options);
  self = &runner;
  auto session = runner.start(parsed.chart);
  if (!session) return session.status().message();
  if (Status st = runner.runUntilIdle(); !st) return st.message();
  while (!runner.isFinished(*session) && runner.now() < kVirtualTimeoutMs) {
    // Whatever arrived over HTTP is processed before virtual time moves on.
    if (http.deliver(runner)) {
      if (Status st = runner.runUntilIdle(); !st) return st.message();
      continue;
    }
    auto advanced = runner.advanceToNextTimer();
    if (!advanced) return advanced.status().message();
    if (!*advanced) break;
  }
  if (!runner.isFinished(*session)) return "did not finish (stuck in a non-final configuration)";
  std::string final_state = runner.finalState(*session);
  return final_state == "pass" ? "" : "reached '" + final_state + "'";
}

}  // namespace

int main(int argc, char** argv) {
  fs::path suite;
  fs::path known_file;
  std::string variant = "lua";
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--suite")
      suite = argv[i + 1];
    else if (a == "--variant")
      variant = argv[i + 1];
    else if (a == "--known")
      known_file = argv[i + 1];
    else if (a == "--only")
      only = argv[i + 1];
    else {
      std::cerr << "unknown option " << a << '\n';
      return 2;
    }
  }
  if (suite.empty() || !fs::exists(suite / "INDEX.tsv") || !fs::is_directory(suite / variant)) {
    std::cout << "SKIP: the W3C SCXML suite was not found at '" << suite.string()
              << "' (expected ../shared/w3c-scxml beside the project)\n";
    return kSkip;
  }
  auto automatic = automaticTests(suite);
  auto cases = collect(suite / variant, automatic);
  auto known = known_file.empty() ? std::map<std::string, std::string>{} : readKnown(known_file);
  HttpInbox http;
  if (Status st = http.start(); !st) {
    std::cout << "cannot start the BasicHTTP endpoint: " << st.toString() << "\n";
    return 1;
  }

  int passed = 0;
  int failed = 0;
  int regressions = 0;
  int stale = 0;
  std::map<std::string, int> passed_by_conformance;
  for (const TestCase& tc : cases) {
    if (!only.empty() && tc.id != only) continue;
    std::string why;
    for (const auto& f : tc.files) {
      std::string r = runOne(f, http);
      if (!r.empty()) {
        why = f.filename().string() + ": " + r;
        break;
      }
    }
    bool is_known = known.count(tc.id) != 0;
    if (why.empty()) {
      ++passed;
      ++passed_by_conformance[tc.conformance];
      if (is_known) {
        ++stale;
        std::cout << "PASS test" << tc.id
                  << " (listed as a known failure: remove it from the list)\n";
      } else {
        std::cout << "PASS test" << tc.id << '\n';
      }
    } else {
      ++failed;
      if (is_known) {
        std::cout << "FAIL test" << tc.id << " (known: " << known[tc.id] << ")\n";
      } else {
        ++regressions;
        std::cout << "FAIL test" << tc.id << " " << why << '\n';
      }
    }
  }
  std::cout << "\n"
            << variant << ": " << cases.size()
            << " automatic tests; passed: " << passed_by_conformance["mandatory"] << " mandatory, "
            << passed_by_conformance["optional"] << " optional\n";
  if (regressions) std::cout << regressions << " failing test(s) not in the known-failures list\n";
  if (stale) std::cout << stale << " known failure(s) now pass: update the list\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return regressions == 0 && stale == 0 ? 0 : 1;
}
