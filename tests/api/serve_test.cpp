// `tramite serve` as a process: layered configuration (a properties file, overridden on the
// command line), the shipped workflows and directory loaded, demo passwords, and SIGTERM
// draining a request that is still arriving before the process exits 0.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "api_contract.h"
#include "files.h"
#include "smtp_sink.h"
#include "tramite/json.h"
#include "tramite/ledger/ledger.h"

namespace {

namespace fs = std::filesystem;

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's stdout
};

// Starts `tramite serve args...` in the source tree (for config/ and workflows/), its
// stderr (the log) going to log_file.
Child spawn(const std::vector<std::string>& args, const std::string& log_file) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  Child c;
  c.pid = ::fork();
  if (c.pid == 0) {
    ::dup2(fds[1], 1);
    if (FILE* log = std::fopen(log_file.c_str(), "w")) ::dup2(::fileno(log), 2);
    ::close(fds[0]);
    ::close(fds[1]);
    if (::chdir(TRAMITE_SOURCE_DIR) != 0) ::_exit(126);
    std::vector<char*> argv;
    std::string program = TRAMITE_BINARY;
    std::string serve = "serve";
    argv.push_back(program.data());
    argv.push_back(serve.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  c.out = ::fdopen(fds[0], "r");
  return c;
}

// The port from the "Tramite is serving on http://127.0.0.1:PORT" line.
int waitForPort(Child& c) {
  char line[512];
  while (std::fgets(line, sizeof line, c.out)) {
    std::string l(line);
    const auto at = l.find("serving on http://127.0.0.1:");
    if (at != std::string::npos) return std::stoi(l.substr(l.rfind(':') + 1));
  }
  return 0;
}

int waitForExit(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

TEST(Serve, LoadsConfigurationServesAndDrainsOnSigterm) {
  const fs::path dir = fs::temp_directory_path() / ("tramite-serve-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path config = dir / "tramite.properties";
  {
    std::ofstream out(config);
    out << "tramite.listen = 127.0.0.1:1\n"  // overridden by --listen below
        << "tramite.demo.password = demo-clave-1\n"
        << "tramite.store.sqlite_pipelined_sync = true\n";
  }
  const std::string log_file = (dir / "serve.log").string();
  Child child = spawn({"--config", config.string(), "--listen", "127.0.0.1:0", "--data-dir",
                       (dir / "data").string()},
                      log_file);
  const int port = waitForPort(child);
  ASSERT_GT(port, 0) << "the server did not start";
  EXPECT_TRUE(fs::exists(dir / "data" / "tramite.db"));

  // The shipped directory, workflows and demo passwords are in place.
  Poco::Net::HTTPClientSession http("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest login(Poco::Net::HTTPRequest::HTTP_POST, "/api/v1/login");
  const std::string body = R"({"username": "admin", "password": "demo-clave-1"})";
  login.setContentType("application/json");
  login.setContentLength(static_cast<std::streamsize>(body.size()));
  http.sendRequest(login) << body;
  Poco::Net::HTTPResponse resp;
  std::stringstream reply;
  reply << http.receiveResponse(resp).rdbuf();
  ASSERT_EQ(resp.getStatus(), 200) << reply.str();
  const std::string token = tramite::json::parse(reply.str())->find("token")->asString();
  Poco::Net::HTTPRequest versions(Poco::Net::HTTPRequest::HTTP_GET,
                                  "/api/v1/definitions/legal-review/versions");
  versions.set("Authorization", "Bearer " + token);
  http.sendRequest(versions);
  std::stringstream listed;
  listed << http.receiveResponse(resp).rdbuf();
  EXPECT_EQ(resp.getStatus(), 200) << listed.str();

  // A request whose body is still arriving when SIGTERM comes is answered before the exit.
  Poco::Net::StreamSocket slow(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  const std::string payload = R"({"username": "admin", "password": "demo-clave-1"})";
  const std::string head =
      "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(payload.size()) + "\r\nConnection: close\r\n\r\n";
  slow.sendBytes(head.data(), static_cast<int>(head.size()));
  slow.sendBytes(payload.data(), 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  slow.sendBytes(payload.data() + 10, static_cast<int>(payload.size() - 10));
  std::string answer;
  char buffer[4096];
  for (int n; (n = slow.receiveBytes(buffer, sizeof buffer)) > 0;) answer.append(buffer, n);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_EQ(waitForExit(child.pid, 15), 0);
  // New connections are refused once it has stopped.
  EXPECT_ANY_THROW(Poco::Net::StreamSocket(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port))));
  std::fclose(child.out);

  // One structured line per request, with the actor, the request id and the client.
  const std::string text = tramite::testing::readBytes(log_file);
  EXPECT_NE(text.find("method=GET path=/api/v1/definitions/legal-review/versions "
                      "status=200 duration_ms="),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("actor=admin request_id=r"), std::string::npos) << text;
  EXPECT_NE(text.find(" remote=127.0.0.1:"), std::string::npos) << text;
  EXPECT_NE(text.find("stopping: draining requests in flight"), std::string::npos);
  // The store was opened as configured.
  EXPECT_NE(text.find("(store sqlite:" + (dir / "data" / "tramite.db").string() +
                      ", pipelined WAL sync)"),
            std::string::npos)
      << text;

  // The ledger key was made (owner-only) with its public half beside it, and the history
  // written while serving is covered by a checkpoint signed with it before the exit.
  const fs::path key = dir / "data" / "ledger.key";
  ASSERT_TRUE(fs::exists(key));
  EXPECT_EQ(fs::status(key).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto verifier = tramite::audit::CheckpointVerifier::fromPem(
      tramite::testing::readBytes(key.string() + ".pub"));
  ASSERT_TRUE(verifier) << verifier.status().toString();
  auto store = tramite::storage::openStore("sqlite:" + (dir / "data" / "tramite.db").string());
  ASSERT_TRUE(store);
  auto report = tramite::audit::verifyLedger(**store, &*verifier);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok()) << report->findings.front().message;
  EXPECT_GT(report->entries, 0u);
  EXPECT_GE(report->checkpoints, 1u);
  auto tx = (*store)->begin(tramite::storage::TxMode::kRead);
  auto latest = (*tx)->latestCheckpoint();
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->size, report->entries) << "the last checkpoint covers every entry";
  fs::remove_all(dir);
}

// One request to a served port: the status and the body.
std::pair<int, std::string> exchange(int port, const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& token,
                                     const std::string& type = "application/json") {
  Poco::Net::HTTPClientSession http("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!token.empty()) req.set("Authorization", "Bearer " + token);
  if (!body.empty()) {
    req.setContentType(type);
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  http.sendRequest(req) << body;
  Poco::Net::HTTPResponse resp;
  std::stringstream reply;
  reply << http.receiveResponse(resp).rdbuf();
  tramite::api::expectAsDocumented(method, path, resp.getStatus(), resp.getContentType(),
                                   reply.str());
  return {resp.getStatus(), reply.str()};
}

// Issue 26, items 15 and 17: the data directory is the server account's alone, and a
// restart never lets the shipped file supersede a version an administrator deployed.
TEST(Serve, KeepsItsDataPrivateAndTheDeployedVersionAcrossRestarts) {
  const fs::path dir =
      fs::temp_directory_path() / ("tramite-private-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  fs::permissions(dir / "data", fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
  tramite::testing::writeBytes((dir / "data" / "left-behind.txt").string(), "x");
  fs::permissions(dir / "data" / "left-behind.txt",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  const std::vector<std::string> args = {"--listen",   "127.0.0.1:0",
                                         "--data-dir", (dir / "data").string(),
                                         "--set",      "tramite.demo.password=demo-clave-1"};
  const std::string login = R"({"username": "admin", "password": "demo-clave-1"})";
  Child first = spawn(args, (dir / "first.log").string());
  int port = waitForPort(first);
  ASSERT_GT(port, 0) << "the server did not start";
  const auto mode = [&](const char* name) {
    return fs::status(dir / "data" / name).permissions() & fs::perms::all;
  };
  EXPECT_EQ(mode(""), fs::perms::owner_all);
  for (const char* file : {"tramite.db", "left-behind.txt"}) {
    EXPECT_EQ(mode(file), fs::perms::owner_read | fs::perms::owner_write) << file;
  }
  if (fs::exists(dir / "data" / "tramite.db-wal")) {
    EXPECT_EQ(mode("tramite.db-wal"), fs::perms::owner_read | fs::perms::owner_write);
  }
  auto token = tramite::json::parse(exchange(port, "POST", "/api/v1/login", login, "").second);
  ASSERT_TRUE(token && token->find("token"));
  std::string shipped = tramite::testing::readBytes(std::string(TRAMITE_SOURCE_DIR) +
                                                    "/workflows/legal-review.scxml");
  const std::string v2 = shipped + "<!-- v2 -->\n";
  auto deployed = exchange(port, "POST", "/api/v1/definitions/legal-review", v2,
                           token->find("token")->asString(), "application/scxml+xml");
  ASSERT_EQ(deployed.first, 201) << deployed.second;
  ASSERT_EQ(::kill(first.pid, SIGTERM), 0);
  EXPECT_EQ(waitForExit(first.pid, 15), 0);
  std::fclose(first.out);

  Child second = spawn(args, (dir / "second.log").string());
  port = waitForPort(second);
  ASSERT_GT(port, 0) << "the server did not restart";
  token = tramite::json::parse(exchange(port, "POST", "/api/v1/login", login, "").second);
  ASSERT_TRUE(token && token->find("token"));
  const std::string bearer = token->find("token")->asString();
  auto versions = exchange(port, "GET", "/api/v1/definitions/legal-review/versions", "", bearer);
  ASSERT_EQ(versions.first, 200);
  auto listed = tramite::json::parse(versions.second);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->find("versions")->asArray().size(), 2u) << versions.second;
  auto again = exchange(port, "POST", "/api/v1/definitions/legal-review", v2, bearer,
                        "application/scxml+xml");
  EXPECT_EQ(tramite::json::parse(again.second)->find("version")->asInt(), 2) << again.second;
  ASSERT_EQ(::kill(second.pid, SIGTERM), 0);
  EXPECT_EQ(waitForExit(second.pid, 15), 0);
  std::fclose(second.out);
  fs::remove_all(dir);
}

// A server as `make run` starts it, in dir: the demo PKI made in dir/pki (the CA trusted, the
// seal signing rendered documents), the store in dir/data, every demo user's password given.
Child spawnDemo(const fs::path& dir, const std::string& password) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string pki = (dir / "pki").string();
  EXPECT_EQ(
      std::system(("cd " TRAMITE_SOURCE_DIR " && bash scripts/demo-pki.sh " + pki + " > /dev/null")
                      .c_str()),
      0);
  return spawn({"--listen", "127.0.0.1:0", "--data-dir", (dir / "data").string(), "--set",
                "tramite.demo.password=" + password, "--set",
                "tramite.signing.trust_store=" + pki + "/ca.pem", "--set",
                "tramite.signing.seal_certificate=" + pki + "/seal.pem", "--set",
                "tramite.signing.seal_key=" + pki + "/seal.key"},
               (dir / "serve.log").string());
}

// Issue 26, item 24: the README's walk-through (scripts/walkthrough.sh) runs as written
// against a served demo: request, assign, draft, approve, sign, verify the bundle offline.
TEST(Serve, TheReadmeWalkThroughRunsAsWritten) {
  const fs::path dir = fs::temp_directory_path() / ("tramite-walk-" + std::to_string(::getpid()));
  const std::string pki = (dir / "pki").string();
  const std::string data = (dir / "data").string();
  Child child = spawnDemo(dir, "demo-clave-3");
  const int port = waitForPort(child);
  ASSERT_GT(port, 0) << "the server did not start";
  const std::string out = (dir / "walk.txt").string();
  const std::string run =
      "cd " TRAMITE_SOURCE_DIR " && TRAMITE_URL=http://127.0.0.1:" + std::to_string(port) +
      " TRAMITE_DEMO_PASSWORD=demo-clave-3 TRAMITE_PKI=" + pki + " TRAMITE_DATA=" + data +
      " TRAMITE_BIN=" TRAMITE_BINARY + " bash scripts/walkthrough.sh > " + out + " 2>&1";
  const int code = std::system(run.c_str());
  const std::string said = tramite::testing::readBytes(out);
  EXPECT_EQ(code, 0) << said;
  EXPECT_NE(said.find("signed by ana_lopez"), std::string::npos) << said;
  EXPECT_NE(said.find("match"), std::string::npos) << said;
  // Item 23: the demo certificates carry the directory's names in UTF-8 ("Ana López").
  const std::string subject = (dir / "subject.txt").string();
  ASSERT_EQ(
      std::system(("openssl x509 -in " + pki +
                   "/users/ana_lopez.pem -noout -subject -nameopt utf8,sep_comma_plus > " + subject)
                      .c_str()),
      0);
  EXPECT_NE(tramite::testing::readBytes(subject).find("CN=Ana L\xc3\xb3pez"), std::string::npos)
      << tramite::testing::readBytes(subject);
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  EXPECT_EQ(waitForExit(child.pid, 15), 0);
  std::fclose(child.out);
  fs::remove_all(dir);
}

// The demo PKI of `make run` (scripts/demo-pki.sh) configured with --set: documents go to
// the data directory, signatures made with stock openssl are taken and bound to their user.
TEST(Serve, TakesDocumentsAndSignaturesWithTheConfiguredTrustStore) {
  const fs::path dir =
      fs::temp_directory_path() / ("tramite-serve-pki-" + std::to_string(::getpid()));
  const std::string pki = (dir / "pki").string();
  Child child = spawnDemo(dir, "demo-clave-2");
  const int port = waitForPort(child);
  ASSERT_GT(port, 0) << "the server did not start";
  auto call = [&](const std::string& method, const std::string& path, const std::string& body,
                  const std::string& type, const std::string& token, int& status) {
    auto [code, reply] = exchange(port, method, path, body, token, type);
    status = code;
    return reply;
  };
  int status = 0;
  const std::string login =
      call("POST", "/api/v1/login", R"({"username": "carla_mendez", "password": "demo-clave-2"})",
           "application/json", "", status);
  ASSERT_EQ(status, 200) << login;
  const std::string token = tramite::json::parse(login)->find("token")->asString();
  const std::string started = call(
      "POST", "/api/v1/instances",
      R"({"definition": "legal-review", "business_key": "GJ-2024-101", "data": {"unidad": "planificacion", "asunto": "x"}})",
      "application/json", token, status);
  ASSERT_EQ(status, 201) << started;
  const std::string id = tramite::json::parse(started)->find("id")->asString();
  const std::string pdf = "%PDF-1.7\nsolicitud\n";
  const std::string doc = call("POST", "/api/v1/instances/" + id + "/documents/solicitud", pdf,
                               "application/pdf", token, status);
  ASSERT_EQ(status, 201) << doc;
  const auto parsed = tramite::json::parse(doc);
  const std::string sha = parsed->find("sha256")->asString();
  EXPECT_TRUE(fs::exists(dir / "data" / "documents" / sha.substr(0, 2) / sha.substr(2)));
  tramite::testing::writeBytes((dir / "solicitud.pdf").string(), pdf);
  ASSERT_EQ(std::system(("openssl cms -sign -binary -outform DER -in " +
                         (dir / "solicitud.pdf").string() + " -out " + (dir / "s.p7s").string() +
                         " -signer " + pki + "/users/carla_mendez.pem -inkey " + pki +
                         "/users/carla_mendez.key")
                            .c_str()),
            0);
  const std::string p7s = tramite::testing::readBytes((dir / "s.p7s").string());
  const std::string sig =
      call("POST", "/api/v1/documents/" + parsed->find("id")->asString() + "/signatures", p7s,
           "application/pkcs7-signature", token, status);
  ASSERT_EQ(status, 201) << sig;
  EXPECT_EQ(tramite::json::parse(sig)->find("signer")->asString(), "carla_mendez");
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  EXPECT_EQ(waitForExit(child.pid, 15), 0);
  std::fclose(child.out);
  // The shipped configuration leaves SQLite syncing inside COMMIT.
  const std::string text = tramite::testing::readBytes((dir / "serve.log").string());
  EXPECT_NE(text.find("(store sqlite:" + (dir / "data" / "tramite.db").string() + ")"),
            std::string::npos)
      << text;
  fs::remove_all(dir);
}

}  // namespace

namespace {

std::string loginToken(int port, const std::string& user, const std::string& password) {
  auto [status, body] =
      exchange(port, "POST", "/api/v1/login",
               R"({"username": ")" + user + R"(", "password": ")" + password + R"("})", "");
  EXPECT_EQ(status, 200) << body;
  auto parsed = tramite::json::parse(body);
  return parsed && parsed->find("token") ? parsed->find("token")->asString() : "";
}

// Polls until pred holds, at most limit; whether it did.
template <typename Pred>
bool eventually(Pred pred, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

}  // namespace

// Issue 27, point 5: a task's notifications reach the people concerned in the application and
// by e-mail; the server is killed with SIGKILL in the middle of an SMTP delivery (the mail
// server holds the recipient unanswered) and started again: every e-mail arrives, once.
TEST(Serve, NotificationEmailsSurviveASigkillMidDelivery) {
  if (!tramite::testing::SmtpSink::available()) {
    GTEST_SKIP() << "python3-aiosmtpd is not installed (scripts/install-deps.sh installs it)";
  }
  const fs::path dir = fs::temp_directory_path() / ("tramite-mail-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  tramite::testing::SmtpSink sink((dir / "mail").string());
  sink.stall(true);
  ASSERT_TRUE(sink.start());
  const std::vector<std::string> args = {
      "--listen", "127.0.0.1:0", "--data-dir", (dir / "data").string(), "--set",
      "tramite.demo.password=demo-clave-5", "--set", "tramite.smtp.host=127.0.0.1", "--set",
      "tramite.smtp.port=" + std::to_string(sink.port()), "--set",
      "tramite.smtp.from=tramite@integracion.example", "--set", "tramite.smtp.retry_seconds=1",
      "--set", "tramite.timers.poll_ms=100",
      // The restarted server listens on another port, so it is another holder: it takes the
      // dead one's leases when they run out.
      "--set", "tramite.workers.lease_seconds=2"};
  Child first = spawn(args, (dir / "serve1.log").string());
  int port = waitForPort(first);
  ASSERT_GT(port, 0) << "the server did not start";
  const std::string carla = loginToken(port, "carla_mendez", "demo-clave-5");
  auto [started, case_body] = exchange(
      port, "POST", "/api/v1/instances",
      R"({"definition": "legal-review", "business_key": "GJ-2024-077", "data": {"unidad": "planificacion", "asunto": "Convenio"}})",
      carla);
  ASSERT_EQ(started, 201) << case_body;
  // The assignment task goes to both heads of legal: in the application at once...
  const std::string fernando = loginToken(port, "fernando_diaz", "demo-clave-5");
  std::string listed;
  ASSERT_TRUE(eventually(
      [&] {
        listed = exchange(port, "GET", "/api/v1/notifications", "", fernando).second;
        return listed.find("GJ-2024-077") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << listed;
  EXPECT_NE(listed.find("\"unread\":1"), std::string::npos) << listed;
  // ...and by e-mail, which the mail server holds mid-transaction when the server is killed.
  ASSERT_TRUE(eventually([&] { return sink.holding(); }, std::chrono::seconds(20)));
  ASSERT_EQ(::kill(first.pid, SIGKILL), 0);
  EXPECT_EQ(waitForExit(first.pid, 10), 128 + SIGKILL);
  std::fclose(first.out);
  sink.stall(false);
  EXPECT_TRUE(sink.messages().empty()) << "accepted although the sender died mid-delivery";

  Child second = spawn(args, (dir / "serve2.log").string());
  port = waitForPort(second);
  ASSERT_GT(port, 0) << "the server did not start again";
  ASSERT_TRUE(eventually([&] { return sink.messages().size() >= 2; }, std::chrono::seconds(30)))
      << sink.messages().size() << " messages";
  // Several more polls and a retry interval later, still one message each.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::vector<std::string> mail = sink.messages();
  ASSERT_EQ(mail.size(), 2u);
  std::set<std::string> to;
  std::set<std::string> ids;
  for (const std::string& m : mail) {
    to.insert(tramite::testing::mailHeader(m, "To"));  // as <address>
    ids.insert(tramite::testing::mailHeader(m, "Message-ID"));
    EXPECT_NE(m.find("GJ-2024-077"), std::string::npos) << m;
  }
  EXPECT_EQ(to, (std::set<std::string>{"<fernando.diaz@integracion.example>",
                                       "<elena.castro@integracion.example>"}));
  EXPECT_EQ(ids.size(), 2u);
  // Marked read by its user.
  auto page = tramite::json::parse(listed);
  ASSERT_TRUE(page);
  const auto id = page->find("notifications")->asArray()[0].find("id")->asInt();
  EXPECT_EQ(
      exchange(port, "POST", "/api/v1/notifications/" + std::to_string(id) + "/read", "", fernando)
          .first,
      200);
  EXPECT_EQ(
      exchange(port, "POST", "/api/v1/notifications/" + std::to_string(id) + "/read", "", carla)
          .first,
      404);
  EXPECT_NE(
      exchange(port, "GET", "/api/v1/notifications", "", fernando).second.find("\"unread\":0"),
      std::string::npos);
  ASSERT_EQ(::kill(second.pid, SIGTERM), 0);
  EXPECT_EQ(waitForExit(second.pid, 15), 0);
  std::fclose(second.out);
  fs::remove_all(dir);
}
