// The real server on 127.0.0.1 (ephemeral port, temp SQLite file, manual clock), driven
// over HTTP with Poco's client: a whole legal-review case, refusals, bad input, TLS, metrics.
#include "tramite/api/server.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/Net/AcceptCertificateHandler.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/StreamSocket.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "api_contract.h"
#include "openapi.h"
#include "slow_clients.h"
#include "test_files.h"
#include "tramite/api/api.h"
#include "tramite/api/basichttp.h"
#include "tramite/calendar/calendar.h"
#include "tramite/runtime/directory.h"

namespace tramite::api {
namespace {

namespace fs = std::filesystem;
using json::Value;

const char* kPassword = "clave-de-prueba";

using testing::localMs;
using testing::readSourceFile;

struct Reply {
  int status = 0;
  Value body;
  std::string raw;
  std::string content_type;
  std::map<std::string, std::string> headers;

  std::string errorCode() const {
    const Value* e = body.find("error");
    const Value* c = e ? e->find("code") : nullptr;
    return c && c->isString() ? c->asString() : std::string("(no error body)");
  }
  std::string str(const char* key) const {
    const Value* v = body.find(key);
    return v && v->isString() ? v->asString() : std::string();
  }
};

std::string dumped(const Value& v) {
  return json::dump(v);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("tramite-api-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto store = storage::openStore("sqlite:" + (dir_ / "t.db").string());
    ASSERT_TRUE(store) << store.status().toString();
    store_ = std::shared_ptr<storage::Store>(std::move(store).value());
    auto cal =
        calendar::loadCalendarFile(std::string(TRAMITE_SOURCE_DIR) + "/config/calendar.json");
    ASSERT_TRUE(cal);
    runtime::EngineOptions options;
    options.calendar = std::make_shared<const calendar::BusinessCalendar>(*cal);
    clock_.set(localMs("2024-03-18", 9));
    engine_ = std::make_shared<runtime::Engine>(store_, clock_, options);
    auto directory =
        runtime::loadDirectoryFile(std::string(TRAMITE_SOURCE_DIR) + "/config/directory.json");
    ASSERT_TRUE(directory);
    ASSERT_TRUE(engine_->importDirectory(*directory));
    ASSERT_TRUE(
        engine_->deploy("legal-review", readSourceFile("workflows/legal-review.scxml"), "admin"));

    ApiOptions api_options;
    api_options.token_secret = std::string(32, 'k');
    api_options.argon2_memory_kib = 1024;  // cheap hashes keep the test fast
    api_options.argon2_passes = 1;
    api_options.max_body_bytes = 64 * 1024;
    api_options.lockout_after = 3;
    api_ = std::make_unique<Api>(engine_, store_, clock_, api_options);
    for (const storage::UserRecord& u : directory->users) {
      ASSERT_TRUE(api_->setPassword(u.id, kPassword));
    }
    startServer({});
  }

  void TearDown() override {
    server_.reset();
    api_.reset();
    engine_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void startServer(ServerOptions options) {
    server_.reset();
    options.host = "127.0.0.1";
    options.port = 0;
    options.max_body_bytes = 64 * 1024;
    options.log_requests = false;
    server_ = std::make_unique<Server>(*api_, options);
    Status st = server_->start();
    ASSERT_TRUE(st) << st.toString();
  }

  Poco::Net::HTTPClientSession& session() {
    if (!session_ || session_port_ != server_->port()) {
      session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());
      session_port_ = server_->port();
    }
    return *session_;
  }

  Reply send(Poco::Net::HTTPClientSession& s, const std::string& method, const std::string& path,
             const std::string& body, const std::string& token,
             const std::string& content_type = "application/json",
             const std::map<std::string, std::string>& headers = {}) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) req.set("Authorization", "Bearer " + token);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.setContentType(content_type);
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = s.receiveResponse(resp);
    Reply r;
    r.status = resp.getStatus();
    r.content_type = resp.getContentType();
    for (const auto& [k, v] : resp) r.headers[k] = v;
    std::stringstream ss;
    ss << in.rdbuf();
    r.raw = ss.str();
    expectAsDocumented(method, path, r.status, r.content_type, r.raw);
    if (r.content_type.rfind("application/json", 0) == 0) {
      auto parsed = json::parse(r.raw);
      EXPECT_TRUE(parsed) << r.raw;
      if (parsed) r.body = *parsed;
    }
    return r;
  }

  Reply call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& token = "", const std::string& content_type = "application/json",
             const std::map<std::string, std::string>& headers = {}) {
    return send(session(), method, path, body, token, content_type, headers);
  }

  // A connection to the server that has sent bytes (the start of a request, say).
  Poco::Net::StreamSocket connectAndSend(const std::string& bytes) {
    Poco::Net::StreamSocket s(
        Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server_->port())));
    s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    return s;
  }

  // POST /api/v1/login with user and password, as a client would.
  Reply attemptLogin(const std::string& user, const std::string& password) {
    return call("POST", "/api/v1/login",
                dumped(Value(json::Object{{"username", user}, {"password", password}})));
  }

  std::string login(const std::string& user) {
    Reply r = attemptLogin(user, kPassword);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.str("token");
  }

  // The open task named name of an instance, as seen by an auditor.
  Value openTask(const std::string& instance, const std::string& name) {
    Reply r = call("GET", "/api/v1/instances/" + instance + "/tasks", "", login("marta_rivas"));
    EXPECT_EQ(r.status, 200) << r.raw;
    const Value* tasks = r.body.find("tasks");
    if (tasks && tasks->isArray()) {
      for (const Value& t : tasks->asArray()) {
        const std::string status = t.find("status")->asString();
        if (t.find("name")->asString() == name && status != "completed" && status != "exited" &&
            status != "obsolete") {
          return t;
        }
      }
    }
    ADD_FAILURE() << "no open task " << name << " in " << r.raw;
    return Value();
  }

  std::set<std::string> queueIds(const std::string& token, const std::string& query) {
    Reply r = call("GET", "/api/v1/tasks?" + query, "", token);
    EXPECT_EQ(r.status, 200) << r.raw;
    std::set<std::string> ids;
    if (const Value* tasks = r.body.find("tasks")) {
      for (const Value& t : tasks->asArray()) ids.insert(t.find("id")->asString());
    }
    return ids;
  }

  Reply act(const std::string& token, const std::string& task, const std::string& op,
            const Value& body = Value(json::Object{})) {
    return call("POST", "/api/v1/tasks/" + task + "/" + op, dumped(body), token);
  }

  std::int64_t instanceCount() {
    auto tx = store_->begin(storage::TxMode::kRead);
    auto n = (*tx)->countInstances();
    return n ? *n : -1;
  }

  fs::path dir_;
  ManualClock clock_;
  std::shared_ptr<storage::Store> store_;
  std::shared_ptr<runtime::Engine> engine_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  int session_port_ = 0;
};

TEST(ApiRoutes, EveryRouteIsInTheOpenApiDocumentAndViceVersa) {
  auto doc = json::parse(Api::openApiDocument());
  ASSERT_TRUE(doc) << doc.status().toString();
  EXPECT_EQ(doc->find("openapi")->asString().substr(0, 2), "3.");
  std::set<std::string> documented;
  for (const auto& [path, item] : doc->find("paths")->asObject()) {
    for (const auto& [method, op] : item.asObject()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
      EXPECT_TRUE(op.find("responses")) << upper << " " << path << " has no responses";
      // Public routes say so (security: []); the others inherit the bearer scheme.
      const Value* security = op.find("security");
      const bool public_in_doc = security && security->isArray() && security->asArray().empty();
      for (const RouteInfo& r : Api::routes()) {
        if (r.method == upper && r.path == path) {
          EXPECT_EQ(public_in_doc, r.access == "public") << upper << " " << path;
        }
      }
    }
  }
  std::set<std::string> routed;
  for (const RouteInfo& r : Api::routes()) {
    EXPECT_TRUE(routed.insert(r.method + " " + r.path).second) << "twice: " << r.path;
  }
  for (const std::string& r : routed) EXPECT_TRUE(documented.count(r)) << "undocumented: " << r;
  for (const std::string& d : documented) EXPECT_TRUE(routed.count(d)) << "no route: " << d;
}

// The check the API tests run on every answer (api_contract.h) refuses what the document
// does not say: it is a test of the document only if it can fail.
TEST(ApiRoutes, TheContractCheckRefusesWhatTheDocumentDoesNotSay) {
  auto check = testing::OpenApiCheck::parse(Api::openApiDocument());
  ASSERT_TRUE(check) << check.status().toString();
  const std::string me =
      R"({"user": "ana", "name": "Ana", "unit": "gj", "roles": [], "read_only": false,)"
      R"( "monitor": false})";
  auto problems = [&](int status, const std::string& body,
                      const std::string& type = "application/json") {
    return check->problems("GET", "/api/v1/me?x=1", status, type, body);
  };
  EXPECT_TRUE(problems(200, me).empty());
  // Whether the problems name part, and only problems of that kind.
  auto only = [](const std::vector<std::string>& p, const std::string& part) {
    return !p.empty() && std::all_of(p.begin(), p.end(), [&](const std::string& x) {
      return x.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(only(problems(200, R"({"user": "ana"})"), "no member "));
  EXPECT_EQ(problems(200, R"({"user": "ana"})").size(), 5u);
  std::string extra = me;
  extra.insert(1, R"("secret": 1, )");
  EXPECT_TRUE(only(problems(200, extra), "undocumented member secret"));
  std::string wrong = me;
  wrong.replace(wrong.find("false"), 5, "\"no\"");
  EXPECT_TRUE(only(problems(200, wrong), "$.read_only: expected boolean, got string"));
  EXPECT_TRUE(only(problems(201, me), "the status is not documented"));
  EXPECT_TRUE(only(problems(200, "x", "text/html"), "media type text/html"));
  EXPECT_EQ(problems(403, R"({"error": {"code": "nope"}})").size(), 3u);  // code, message, details
  EXPECT_TRUE(
      problems(403,
               json::dump(json::Value(json::Object{
                   {"error", json::Value(json::Object{{"code", "permission_denied"},
                                                      {"message", "no"},
                                                      {"details", json::Value(json::Array{})}})}})))
          .empty());
  // Schema keywords: formats, lists, alternatives, and a keyword it cannot read.
  auto schema = [](const char* text) { return *json::parse(text); };
  EXPECT_EQ(check->validate(Value("2024-02-30x"), schema(R"({"format": "date"})")).size(), 1u);
  EXPECT_TRUE(check->validate(Value("2024-03-18"), schema(R"({"format": "date"})")).empty());
  EXPECT_EQ(check
                ->validate(*json::parse(R"([1, "a"])"),
                           schema(R"({"type": "array", "items": {"type": "integer"}})"))
                .size(),
            1u);
  EXPECT_EQ(check->validate(Value(3), schema(R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})"))
                .size(),
            1u);
  EXPECT_EQ(check->validate(Value("a"), schema(R"({"pattern": "^b"})")).size(), 1u);
  EXPECT_EQ(check->validate(Value(1), schema(R"({"$ref": "#/components/schemas/Nothing"})")).size(),
            1u);
}

// The generator refuses a declaration it cannot document faithfully.
TEST(ApiRoutes, TheGeneratorRefusesABrokenDeclaration) {
  auto fault = [](const std::vector<DocumentedRoute>& routes) {
    try {
      generateOpenApi(routes);
    } catch (const std::logic_error& e) {
      return std::string(e.what());
    }
    return std::string("(no fault)");
  };
  RouteDoc me;
  me.operation_id = "me";
  me.summary = "The caller";
  me.replies = {{200, "Nobody", "the caller", ""}};
  EXPECT_NE(fault({{"GET", "/api/v1/me", false, false, &me}}).find("no schema named Nobody"),
            std::string::npos);
  me.replies = {{200, "Me", "the caller", ""}};
  EXPECT_NE(fault({{"GET", "/a", false, false, &me}, {"GET", "/b", false, false, &me}})
                .find("operation id me is used twice"),
            std::string::npos);
  me.replies = {{200, R"({"type": )", "the caller", ""}};
  EXPECT_NE(fault({{"GET", "/api/v1/me", false, false, &me}}).find("GET /api/v1/me"),
            std::string::npos);
  me.replies = {{200, "Me", "the caller", ""}};
  me.path = {{"nope", "", "", true}};
  EXPECT_NE(fault({{"GET", "/api/v1/me", false, false, &me}}).find("no path segment {nope}"),
            std::string::npos);
  me.path.clear();
  EXPECT_NE(fault({{"GET", "/api/v1/me", false, false, &me}}).find("is never used"),
            std::string::npos);
}

// The served document passes a real OpenAPI validator: Redocly's CLI (pinned in
// tests/package.json, installed by scripts/install-deps.sh) with the rules of
// api/openapi/redocly.yaml, where a warning fails too.
TEST_F(ServerTest, TheServedDocumentPassesAnOpenApiValidator) {
  const std::string redocly = std::string(TRAMITE_SOURCE_DIR) + "/tests/node_modules/.bin/redocly";
  ASSERT_TRUE(fs::exists(redocly)) << redocly << " is missing: run scripts/install-deps.sh test";
  Reply served = call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(served.status, 200);
  const fs::path file = dir_ / "openapi.json";
  std::ofstream(file) << served.raw;
  const std::string command = "REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true '" +
                              redocly + "' lint --config '" + std::string(TRAMITE_SOURCE_DIR) +
                              "/api/openapi/redocly.yaml' '" + file.string() + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    output.append(buffer, n);
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("Your API description is valid"), std::string::npos) << output;
}

TEST(ApiRoutes, EachErrorCodeHasOneStatus) {
  const std::pair<ErrorCode, int> expected[] = {
      {ErrorCode::kInvalidArgument, 400},   {ErrorCode::kUnauthenticated, 401},
      {ErrorCode::kPermissionDenied, 403},  {ErrorCode::kNotFound, 404},
      {ErrorCode::kConflict, 409},          {ErrorCode::kFailedPrecondition, 409},
      {ErrorCode::kResourceExhausted, 413}, {ErrorCode::kUnsupportedMedia, 415},
      {ErrorCode::kInvalidDocument, 422},   {ErrorCode::kRateLimited, 429},
      {ErrorCode::kInternal, 500},          {ErrorCode::kUnavailable, 503},
  };
  for (const auto& [code, status] : expected) {
    EXPECT_EQ(httpStatus(code), status) << errorCodeName(code);
    HttpResponse r = errorResponse(Status(code, "why"));
    auto body = json::parse(r.body);
    ASSERT_TRUE(body);
    EXPECT_EQ(body->find("error")->find("code")->asString(), errorCodeName(code));
    EXPECT_EQ(body->find("error")->find("message")->asString(), "why");
    EXPECT_TRUE(body->find("error")->find("details")->isArray());
  }
}

TEST_F(ServerTest, LegalReviewCaseOverHttp) {
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  const std::string carla = login("carla_mendez");
  const std::string fernando = login("fernando_diaz");
  const std::string elena = login("elena_castro");
  Reply me = call("GET", "/api/v1/me", "", elena);
  EXPECT_EQ(me.str("unit"), "gj");

  // The requesting unit opens the case; the retried request is answered with the first
  // result: still one instance.
  const std::string request = dumped(Value(json::Object{
      {"definition", "legal-review"},
      {"business_key", "GJ-2024-101"},
      {"data", Value(json::Object{{"unidad", "planificacion"}, {"asunto", "Convenio"}})}}));
  Reply started = call("POST", "/api/v1/instances", request, carla, "application/json",
                       {{"Idempotency-Key", "start-101"}});
  ASSERT_EQ(started.status, 201) << started.raw;
  const std::string id = started.str("id");
  Reply again = call("POST", "/api/v1/instances", request, carla, "application/json",
                     {{"Idempotency-Key", "start-101"}});
  EXPECT_EQ(again.str("id"), id);
  EXPECT_EQ(instanceCount(), 1);

  // Assignment, in the heads of legal's group queue; a lawyer may not claim it.
  Value assign = openTask(id, "asignar");
  const std::string assign_id = assign.find("id")->asString();
  EXPECT_EQ(assign.find("due_date")->asString(), "2024-03-20");
  EXPECT_TRUE(queueIds(fernando, "view=group").count(assign_id));
  EXPECT_EQ(act(login("ana_lopez"), assign_id, "claim").status, 403);
  EXPECT_EQ(act(fernando, assign_id, "claim").status, 200);
  Reply assigned =
      act(fernando, assign_id, "complete",
          Value(json::Object{{"form", Value(json::Object{{"abogado", "elena_castro"}})}}));
  ASSERT_EQ(assigned.status, 200) << assigned.raw;

  // Drafting: reserved to Elena, due after Holy Week.
  Value draft = openTask(id, "redactar");
  const std::string draft_id = draft.find("id")->asString();
  EXPECT_EQ(draft.find("due_date")->asString(), "2024-04-01");
  EXPECT_TRUE(queueIds(elena, "view=personal").count(draft_id));
  EXPECT_EQ(act(elena, draft_id, "start").status, 200);
  Reply drafted = act(elena, draft_id, "complete",
                      Value(json::Object{{"form", Value(json::Object{{"opinion", "Procede."}})}}));
  ASSERT_EQ(drafted.status, 200) << drafted.raw;

  // Review: the drafter may not approve her own opinion (separation of duties, 403).
  Value review = openTask(id, "revisar");
  const std::string review_id = review.find("id")->asString();
  Reply own = act(elena, review_id, "complete", Value(json::Object{{"decision", "approve"}}));
  EXPECT_EQ(own.status, 403) << own.raw;
  EXPECT_NE(own.raw.find("separation of duties"), std::string::npos);
  Reply approved =
      act(fernando, review_id, "complete", Value(json::Object{{"decision", "approve"}}));
  ASSERT_EQ(approved.status, 200) << approved.raw;

  Reply done = call("GET", "/api/v1/instances/" + id, "", carla);
  ASSERT_EQ(done.status, 200) << done.raw;
  EXPECT_EQ(done.str("lifecycle"), "completed");
  EXPECT_EQ(done.body.find("data")->find("dictamen")->asString(), "Procede.");

  // Every mutating call is in the history with its authenticated actor.
  Reply history = call("GET", "/api/v1/instances/" + id + "/history", "", carla);
  ASSERT_EQ(history.status, 200);
  std::map<std::string, int> by_actor;
  for (const Value& row : history.body.find("history")->asArray()) {
    ++by_actor[row.find("actor")->asString()];
  }
  EXPECT_GT(by_actor["carla_mendez"], 0);
  EXPECT_GT(by_actor["fernando_diaz"], 0);
  EXPECT_GT(by_actor["elena_castro"], 0);

  // The definition is readable back; an unrelated user may not read the case.
  Reply xml = call("GET", "/api/v1/definitions/legal-review/versions/latest", "", carla);
  EXPECT_EQ(xml.status, 200);
  EXPECT_EQ(xml.raw, readSourceFile("workflows/legal-review.scxml"));
  EXPECT_EQ(call("GET", "/api/v1/instances/" + id, "", login("jorge_pineda")).status, 403);
}

TEST_F(ServerTest, ASubstituteReadsTheTasksAndCasesOfWhomTheyStandInFor) {
  // Fernando stands in for Elena from 2024-08-01 to 2024-08-16 (config/directory.json).
  clock_.set(localMs("2024-08-05", 9));
  const std::string admin = login("admin");
  Reply started = call(
      "POST", "/api/v1/instances",
      dumped(Value(json::Object{
          {"definition", "legal-review"},
          {"business_key", "GJ-2024-300"},
          {"data", Value(json::Object{{"unidad", "planificacion"}, {"asunto", "Convenio"}})}})),
      login("carla_mendez"));
  ASSERT_EQ(started.status, 201) << started.raw;
  const std::string id = started.str("id");
  const std::string assign = openTask(id, "asignar").find("id")->asString();
  ASSERT_EQ(act(admin, assign, "claim").status, 200);
  ASSERT_EQ(act(admin, assign, "complete",
                Value(json::Object{{"form", Value(json::Object{{"abogado", "elena_castro"}})}}))
                .status,
            200);
  const std::string draft = openTask(id, "redactar").find("id")->asString();
  const std::string fernando = login("fernando_diaz");
  EXPECT_EQ(call("GET", "/api/v1/tasks/" + draft, "", fernando).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/instances/" + id, "", fernando).status, 200);
  // After the absence he no longer does; Elena still does.
  clock_.set(localMs("2024-08-20", 9));
  const std::string later = login("fernando_diaz");
  EXPECT_EQ(call("GET", "/api/v1/tasks/" + draft, "", later).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/instances/" + id, "", later).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/tasks/" + draft, "", login("elena_castro")).status, 200);
}

TEST_F(ServerTest, RefusalsAndBadInputLeaveNothingBehind) {
  const std::string start =
      dumped(Value(json::Object{{"definition", "legal-review"}, {"business_key", "GJ-1"}}));
  // Authentication; session tokens expire.
  const std::string early = login("diego_flores");
  EXPECT_EQ(call("GET", "/api/v1/me", "", early).status, 200);
  clock_.advance(16 * 60'000);
  EXPECT_EQ(call("GET", "/api/v1/me", "", early).status, 401);
  const std::string carla = login("carla_mendez");
  const std::string auditor = login("marta_rivas");
  Reply none = call("POST", "/api/v1/instances", start);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.errorCode(), "unauthenticated");
  EXPECT_EQ(call("GET", "/api/v1/me", "", "not-a-token").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/me", "", carla + "x").status, 401);
  const std::string forged = carla.substr(0, carla.rfind('.') + 1) + "AAAA";
  EXPECT_EQ(call("GET", "/api/v1/me", "", forged).status, 401);
  // Authorization: auditors change nothing; staff do not administer.
  Reply audit = call("POST", "/api/v1/instances", start, auditor);
  EXPECT_EQ(audit.status, 403) << audit.raw;
  EXPECT_EQ(
      call("POST", "/api/v1/definitions/x", "<scxml/>", carla, "application/scxml+xml").status,
      403);
  EXPECT_EQ(call("GET", "/metrics", "", carla).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/tasks?view=all", "", carla).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/tasks?view=all", "", auditor).status, 200);

  // Bad bodies: each a 4xx with the error shape, none writes anything.
  struct Case {
    std::string body;
    std::string content_type;
    int status;
  };
  const Case cases[] = {
      {"{\"definition\": \"legal-review\", ", "application/json", 400},           // malformed
      {"[1, 2]", "application/json", 400},                                        // not an object
      {"{\"definition\": 7, \"business_key\": \"k\"}", "application/json", 400},  // wrong type
      {"{\"definition\": \"legal-review\", \"business_key\": \"k\", \"extra\": 1}",
       "application/json", 400},  // unknown field
      {"{\"definition\": \"legal-review\", \"business_key\": \"k\", \"version\": 1e999}",
       "application/json", 400},  // huge number
      {"{\"definition\": \"legal-review\", \"business_key\": \"k\", \"version\": "
       "123456789012345678901234567890}",
       "application/json", 400},  // not a 64-bit integer
      {"{\"definition\": \"legal-review\", \"business_key\": \"\xff\xfe\"}", "application/json",
       400},  // invalid UTF-8
      {"{\"definition\": \"legal-review\", \"business_key\": \"k\", \"business_key\": "
       "\"j\"}",
       "application/json", 400},  // a member twice (issue 26, item 18)
      {start, "text/plain", 415},
      {"{\"definition\": \"nope\", \"business_key\": \"k\"}", "application/json", 404},
  };
  for (const Case& c : cases) {
    Reply r = call("POST", "/api/v1/instances", c.body, carla, c.content_type);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.raw;
    EXPECT_NE(r.errorCode(), "(no error body)") << r.raw;
    EXPECT_FALSE(r.body.find("error")->find("message")->asString().empty());
  }
  // Too large: refused before it is read.
  Reply big = call("POST", "/api/v1/instances", std::string(70 * 1024, ' '), carla);
  EXPECT_EQ(big.status, 413) << big.raw;
  EXPECT_EQ(instanceCount(), 0);

  // Bad workflow XML: 422 with the validation list, nothing deployed.
  const std::string admin = login("admin");
  Reply bad = call("POST", "/api/v1/definitions/broken",
                   "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\">\n"
                   "  <state id=\"a\"><transition target=\"nowhere\"/></state>\n</scxml>\n",
                   admin, "application/scxml+xml");
  EXPECT_EQ(bad.status, 422) << bad.raw;
  ASSERT_TRUE(bad.body.find("error"));
  const Value& details = *bad.body.find("error")->find("details");
  ASSERT_FALSE(details.asArray().empty()) << bad.raw;
  EXPECT_NE(details.asArray()[0].asString().find("broken:2:"), std::string::npos) << bad.raw;
  EXPECT_EQ(call("GET", "/api/v1/definitions/broken/versions", "", admin).status, 404);
  Reply entity = call("POST", "/api/v1/definitions/validate",
                      "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY e SYSTEM "
                      "\"file:///etc/passwd\">]><scxml xmlns=\"http://www.w3.org/2005/07/scxml\" "
                      "version=\"1.0\"><state id=\"a\">&e;</state></scxml>",
                      admin, "application/xml");
  EXPECT_EQ(entity.status, 422) << entity.raw;
  EXPECT_EQ(entity.raw.find("root:"), std::string::npos);

  // Conflicts: a stale expected_version, and a second claim.
  Reply started = call(
      "POST", "/api/v1/instances",
      dumped(Value(json::Object{
          {"definition", "legal-review"},
          {"business_key", "GJ-2"},
          {"data", Value(json::Object{{"unidad", "planificacion"}, {"asunto", "Convenio"}})}})),
      carla);
  ASSERT_EQ(started.status, 201) << started.raw;
  Value assign = openTask(started.str("id"), "asignar");
  const std::string task = assign.find("id")->asString();
  const std::string fernando = login("fernando_diaz");
  const std::string elena = login("elena_castro");
  EXPECT_EQ(act(fernando, task, "claim",
                Value(json::Object{{"expected_version", assign.find("row_version")->asInt() + 5}}))
                .status,
            409);
  EXPECT_EQ(act(fernando, task, "claim").status, 200);
  Reply second = act(elena, task, "claim");
  EXPECT_EQ(second.status, 409) << second.raw;
  EXPECT_EQ(second.errorCode(), "conflict");
  EXPECT_EQ(act(fernando, task, "dance").status, 404);

  // Oversized headers are refused by the HTTP layer: a 400, or the connection closed when
  // the refusal races the rest of the request; either way nothing is handled and the server
  // goes on serving.
  auto refusedHeaders = [&](const std::map<std::string, std::string>& headers) {
    try {
      return call("GET", "/api/v1/me", "", carla, "application/json", headers).status == 400;
    } catch (const Poco::Exception&) {
      session_.reset();
      return true;
    }
  };
  EXPECT_TRUE(refusedHeaders({{"X-Padding", std::string(10'000, 'a')}}));
  std::map<std::string, std::string> many;
  for (int i = 0; i < 120; ++i) many["X-H" + std::to_string(i)] = "v";
  EXPECT_TRUE(refusedHeaders(many));
  EXPECT_EQ(call("GET", "/api/v1/me", "", carla).status, 200);

  // Unknown routes and methods.
  EXPECT_EQ(call("GET", "/api/v1/nothing-here", "", carla).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/instances", "", carla).status, 404);
}

TEST_F(ServerTest, RepeatedFailedLoginsBackOffWith429) {
  auto attempt = [&](const std::string& password) { return attemptLogin("ana_lopez", password); };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(attempt("wrong-password").status, 401);
  Reply locked = attempt(kPassword);  // even the right password waits now
  EXPECT_EQ(locked.status, 429) << locked.raw;
  EXPECT_EQ(locked.headers["Retry-After"], "1");
  clock_.advance(1'001);
  EXPECT_EQ(attempt("wrong-again").status, 401);  // the 4th failure: 2 s
  Reply longer = attempt(kPassword);
  EXPECT_EQ(longer.status, 429);
  EXPECT_EQ(longer.headers["Retry-After"], "2");
  clock_.advance(2'001);
  EXPECT_EQ(attempt(kPassword).status, 200);
  // Unknown users get the same answer as wrong passwords.
  Reply unknown = attemptLogin("nadie", "x");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body.find("error")->find("message")->asString(),
            "invalid username or password");
}

TEST_F(ServerTest, AdministrationIsForAdminsAndRecorded) {
  const std::string admin = login("admin");
  const std::string carla = login("carla_mendez");
  Reply started =
      call("POST", "/api/v1/instances",
           dumped(Value(json::Object{
               {"definition", "legal-review"},
               {"business_key", "GJ-7"},
               {"data", Value(json::Object{{"unidad", "gj"}, {"asunto", "Consulta"}})}})),
           carla);
  ASSERT_EQ(started.status, 201);
  const std::string lifecycle = "/api/v1/instances/" + started.str("id");
  // Lifecycle: admins only; a suspended instance takes no events (409).
  EXPECT_EQ(call("POST", lifecycle + "/suspend", "", carla).status, 403);
  Reply suspended = call("POST", lifecycle + "/suspend", "", admin, "application/json",
                         {{"Idempotency-Key", "suspend-7"}});
  EXPECT_EQ(suspended.str("lifecycle"), "suspended") << suspended.raw;
  // The retry is answered with the first result; without the key it would be a conflict.
  Reply retried = call("POST", lifecycle + "/suspend", "", admin, "application/json",
                       {{"Idempotency-Key", "suspend-7"}});
  EXPECT_EQ(retried.status, 200) << retried.raw;
  EXPECT_EQ(retried.raw, suspended.raw);
  EXPECT_EQ(call("POST", lifecycle + "/suspend", "", admin).status, 409);
  Reply refused = call("POST", lifecycle + "/events",
                       dumped(Value(json::Object{{"name", "plazo.vencido"}})), carla);
  EXPECT_EQ(refused.status, 409) << refused.raw;
  EXPECT_EQ(call("POST", lifecycle + "/resume", "", admin).str("lifecycle"), "running");
  // Migration to a version the definition does not have is refused; to version 1, mapped
  // onto its own state, it is recorded.
  EXPECT_EQ(
      call("POST", lifecycle + "/migrate", dumped(Value(json::Object{{"to_version", 9}})), admin)
          .status,
      404);
  Reply migrated =
      call("POST", lifecycle + "/migrate",
           dumped(Value(json::Object{
               {"to_version", 1}, {"mapping", Value(json::Object{{"asignacion", "asignacion"}})}})),
           admin);
  EXPECT_EQ(migrated.status, 200) << migrated.raw;
  EXPECT_EQ(call("POST", lifecycle + "/terminate", "", admin).str("lifecycle"), "terminated");

  // The directory: monitors list users; admins replace it; passwords are one's own or admin's.
  EXPECT_EQ(call("GET", "/api/v1/users", "", carla).status, 403);
  Reply users = call("GET", "/api/v1/users", "", login("luis_hernandez"));
  EXPECT_EQ(users.body.find("users")->asArray().size(), 14u);
  EXPECT_EQ(call("GET", "/api/v1/roles", "", carla).body.find("units")->asArray().size(), 28u);
  const std::string directory = readSourceFile("config/directory.json");
  EXPECT_EQ(call("PUT", "/api/v1/directory", directory, carla).status, 403);
  Reply replaced = call("PUT", "/api/v1/directory", directory, admin);
  EXPECT_EQ(replaced.status, 200) << replaced.raw;
  Reply bad_directory = call("PUT", "/api/v1/directory",
                             R"({"units": [], "roles": [], "users": [{"id": "x"}]})", admin);
  EXPECT_EQ(bad_directory.status, 400) << bad_directory.raw;
  EXPECT_EQ(call("PUT", "/api/v1/users/diego_flores/password",
                 dumped(Value(json::Object{{"password", "otra-clave-1"}})), carla)
                .status,
            403);
  EXPECT_EQ(call("PUT", "/api/v1/users/carla_mendez/password",
                 dumped(Value(json::Object{{"password", "corta"}})), carla)
                .status,
            400);
  EXPECT_EQ(call("PUT", "/api/v1/users/carla_mendez/password",
                 dumped(Value(
                     json::Object{{"password", "otra-clave-1"}, {"current_password", kPassword}})),
                 carla)
                .status,
            200);
  EXPECT_EQ(attemptLogin("carla_mendez", "otra-clave-1").status, 200);
  // Each administrative change is in the history with who made it.
  auto admin_history = engine_->history("admin:users");
  ASSERT_TRUE(admin_history);
  ASSERT_EQ(admin_history->size(), 1u);
  EXPECT_EQ(admin_history->front().actor, "carla_mendez");
  auto directory_history = engine_->history("admin:directory");
  EXPECT_EQ(directory_history->back().actor, "admin");
  auto instance_history = engine_->history(started.str("id"));
  int by_admin = 0;
  for (const storage::HistoryRecord& h : *instance_history) by_admin += h.actor == "admin";
  EXPECT_GE(by_admin, 4);  // suspend, resume, migrate, terminate
}

// A client that sends half a request and stalls is cut off after the request timeout.
// Issue 26, item 19: expedientes are found by business key, process, state, unit, dates
// and participant, a page at a time, each user seeing only what they may read.
TEST_F(ServerTest, ExpedientesAreFoundWithPerObjectAccess) {
  const std::string carla = login("carla_mendez");
  const std::string diego = login("diego_flores");
  const auto start = [&](const std::string& token, const std::string& key, const char* unit) {
    Reply r = call("POST", "/api/v1/instances",
                   dumped(Value(json::Object{
                       {"definition", "legal-review"},
                       {"business_key", key},
                       {"data", Value(json::Object{{"unidad", unit}, {"asunto", "Consulta"}})}})),
                   token);
    EXPECT_EQ(r.status, 201) << r.raw;
    clock_.advance(1'000);  // one a second: newest first is then the order they came
    return r.str("id");
  };
  const std::string a = start(carla, "GJ-2024-501", "planificacion");
  const std::string b = start(carla, "GJ-2024-502", "planificacion");
  const std::string c = start(diego, "GJ-2024-601", "operaciones");
  const auto found = [&](const std::string& token, const std::string& query) {
    Reply r = call("GET", "/api/v1/instances" + query, "", token);
    EXPECT_EQ(r.status, 200) << query << " " << r.raw;
    std::vector<std::string> ids;
    for (const Value& i : r.body.find("instances")->asArray())
      ids.push_back(i.find("id")->asString());
    return ids;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(found(carla, ""), (V{b, a}));  // hers only, newest first
  EXPECT_EQ(found(diego, ""), (V{c}));
  EXPECT_EQ(found(login("ana_lopez"), ""), V{});  // a lawyer with no part yet
  EXPECT_EQ(found(login("fernando_diaz"), "?state=asignacion"), (V{c, b, a}));  // his queue
  const std::string marta = login("marta_rivas");
  EXPECT_EQ(found(marta, "?business_key=GJ-2024-5"), (V{b, a}));
  EXPECT_EQ(found(marta, "?unit=operaciones&definition=legal-review"), (V{c}));
  EXPECT_EQ(found(marta, "?participant=diego_flores"), (V{c}));
  EXPECT_EQ(found(marta, "?lifecycle=completed"), V{});
  EXPECT_EQ(found(marta, "?from=2020-01-01&to=2099-12-31").size(), 3u);
  Reply first = call("GET", "/api/v1/instances?limit=2", "", marta);
  ASSERT_EQ(first.status, 200);
  const std::string cursor = first.str("next_cursor");
  ASSERT_FALSE(cursor.empty());
  EXPECT_EQ(found(marta, "?limit=2&cursor=" + cursor), (V{a}));
  EXPECT_EQ(call("GET", "/api/v1/instances?cursor=nonsense", "", marta).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/instances?from=ayer", "", marta).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/instances?limit=9999", "", marta).status, 400);
}

// Issue 26, item 22: the directory reads back; one user is added, changed and deactivated
// at a time; a new user sets a first password with a one-time invitation.
TEST_F(ServerTest, OneUserAtATimeAndAFirstPasswordByInvitation) {
  const std::string admin = login("admin");
  Reply dir = call("GET", "/api/v1/directory", "", admin);
  ASSERT_EQ(dir.status, 200) << dir.raw;
  EXPECT_EQ(dir.body.find("users")->asArray().size(), 14u);
  EXPECT_EQ(call("GET", "/api/v1/directory", "", login("carla_mendez")).status, 403);
  // The directory read back replaces itself unchanged.
  EXPECT_EQ(call("PUT", "/api/v1/directory", dir.raw, admin).status, 200);

  const auto put = [&](json::Object user) {
    return call("PUT", "/api/v1/users/nora_perez", dumped(Value(std::move(user))), admin);
  };
  Reply bad = put(
      {{"name", "Nora Pérez"}, {"unit", "no-existe"}, {"roles", Value(json::Array{"abogado"})}});
  EXPECT_EQ(bad.status, 400) << bad.raw;
  EXPECT_NE(bad.raw.find("unknown unit 'no-existe'"), std::string::npos) << bad.raw;
  Reply added =
      put({{"name", "Nora Pérez"}, {"unit", "gj"}, {"roles", Value(json::Array{"abogado"})}});
  ASSERT_EQ(added.status, 200) << added.raw;
  Reply invited = call("POST", "/api/v1/users/nora_perez/invitation", "", admin);
  ASSERT_EQ(invited.status, 201) << invited.raw;
  const std::string secret = invited.str("invitation");
  const auto accept = [&](const std::string& password) {
    return call("POST", "/api/v1/invitations/accept",
                dumped(Value(json::Object{{"invitation", secret}, {"password", password}})));
  };
  EXPECT_EQ(accept("corta").status, 400);
  EXPECT_EQ(accept("primera-clave-1").status, 200);
  EXPECT_EQ(accept("otra-clave-22").status, 401);  // used once
  Reply nora = attemptLogin("nora_perez", "primera-clave-1");
  ASSERT_EQ(nora.status, 200) << nora.raw;
  const std::string token = nora.str("token");
  EXPECT_EQ(call("GET", "/api/v1/me", "", token).status, 200);
  // Deactivated: her session stops working and she can no longer log in.
  ASSERT_EQ(put({{"name", "Nora Pérez"},
                 {"unit", "gj"},
                 {"roles", Value(json::Array{"abogado"})},
                 {"active", false}})
                .status,
            200);
  EXPECT_EQ(call("GET", "/api/v1/me", "", token).status, 401);
  EXPECT_EQ(attemptLogin("nora_perez", "primera-clave-1").status, 401);
  auto history = engine_->history("admin:directory");
  ASSERT_TRUE(history);
  EXPECT_NE(history->back().detail.find("nora_perez"), std::string::npos);
  EXPECT_EQ(history->back().actor, "admin");
}

// Issue 26, item 8: changing one's password asks for the current one and ends every
// session opened before.
TEST_F(ServerTest, APasswordChangeAsksForTheCurrentOneAndEndsEarlierSessions) {
  const std::string carla = login("carla_mendez");
  const std::string elsewhere = login("carla_mendez");
  auto change = [&](json::Object body) {
    return call("PUT", "/api/v1/users/carla_mendez/password", dumped(Value(std::move(body))),
                carla);
  };
  EXPECT_EQ(change({{"password", "nueva-clave-1"}}).status, 400);
  EXPECT_EQ(change({{"password", "nueva-clave-1"}, {"current_password", "equivocada"}}).status,
            403);
  EXPECT_EQ(call("GET", "/api/v1/me", "", elsewhere).status, 200);
  Reply changed = change({{"password", "nueva-clave-1"}, {"current_password", kPassword}});
  EXPECT_EQ(changed.status, 200) << changed.raw;
  EXPECT_EQ(call("GET", "/api/v1/me", "", elsewhere).status, 401);
  EXPECT_EQ(call("GET", "/api/v1/me", "", carla).status, 401);
  Reply again = attemptLogin("carla_mendez", "nueva-clave-1");
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(call("GET", "/api/v1/me", "", again.str("token")).status, 200);
  // An admin resets someone else's password without theirs; their sessions end too.
  const std::string diego = login("diego_flores");
  EXPECT_EQ(call("PUT", "/api/v1/users/diego_flores/password",
                 dumped(Value(json::Object{{"password", "reiniciada-1"}})), login("admin"))
                .status,
            200);
  EXPECT_EQ(call("GET", "/api/v1/me", "", diego).status, 401);
}

// Issue 26, item 9: parallel guesses are counted atomically (no more are checked than the
// lockout allows), and a name nobody has is throttled exactly like one somebody has.
TEST_F(ServerTest, ParallelGuessesAreCountedAtomicallyAndUnknownNamesAlike) {
  for (const char* name : {"ana_lopez", "nadie"}) {
    std::atomic<int> unauthenticated{0};
    std::atomic<int> limited{0};
    std::vector<std::thread> guessers;
    for (int i = 0; i < 40; ++i) {
      guessers.emplace_back([&, i] {
        HttpRequest req;
        req.method = "POST";
        req.path = "/api/v1/login";
        req.headers["content-type"] = "application/json";
        req.body = dumped(
            Value(json::Object{{"username", name}, {"password", "guess-" + std::to_string(i)}}));
        const int status = api_->handle(req).status;
        if (status == 401) ++unauthenticated;
        if (status == 429) ++limited;
      });
    }
    for (auto& t : guessers) t.join();
    EXPECT_EQ(unauthenticated.load(), 3) << name;  // lockout_after
    EXPECT_EQ(limited.load(), 37) << name;
  }
}

// Waits up to 5 s for the server to close s, dropping what it sends: the seconds waited, or
// infinity when it stayed open.
double secondsUntilClosed(Poco::Net::StreamSocket& s) {
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  const auto t0 = std::chrono::steady_clock::now();
  char buffer[1024];
  try {
    while (s.receiveBytes(buffer, sizeof buffer) > 0) {
    }
  } catch (const Poco::TimeoutException&) {
    return std::numeric_limits<double>::infinity();
  } catch (const Poco::Exception&) {  // reset by the server: closed too
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST_F(ServerTest, StalledRequestsTimeOut) {
  ServerOptions options;
  options.request_timeout_ms = 300;
  startServer(options);
  Poco::Net::StreamSocket slow =
      connectAndSend("POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n");
  EXPECT_LT(secondsUntilClosed(slow), 3.0) << "the server kept a stalled connection open";
  EXPECT_EQ(call("GET", "/healthz").status, 200);  // and it still serves others
}

// Issue 26, item 11: 500 slow clients for 20 s do not hold the server's workers: health
// checks on fresh connections and task completions still answer within a second.
TEST_F(ServerTest, FiveHundredSlowClientsDoNotHoldTheWorkers) {
  ServerOptions options;
  options.max_connections_per_client = 1000;  // the loop, not the per-client limit, is tested
  startServer(options);
  // Eight cases, their assignments claimed by the head of legal, to complete under load.
  const std::string carla = login("carla_mendez");
  const std::string fernando = login("fernando_diaz");
  std::vector<std::string> assignments;
  for (int i = 0; i < 8; ++i) {
    Reply started = call(
        "POST", "/api/v1/instances",
        dumped(Value(json::Object{
            {"definition", "legal-review"},
            {"business_key", "GJ-SLOW-" + std::to_string(i)},
            {"data", Value(json::Object{{"unidad", "planificacion"}, {"asunto", "Convenio"}})}})),
        carla);
    ASSERT_EQ(started.status, 201) << started.raw;
    const std::string task = openTask(started.str("id"), "asignar").find("id")->asString();
    ASSERT_EQ(act(fernando, task, "claim").status, 200);
    assignments.push_back(task);
  }

  // Each probe on a fresh connection, as a browser's first request would be.
  auto timed = [&](const std::string& method, const std::string& path, const std::string& body,
                   const std::string& token) {
    Poco::Net::HTTPClientSession fresh("127.0.0.1", static_cast<Poco::UInt16>(server_->port()));
    fresh.setTimeout(Poco::Timespan(3, 0));
    const auto t0 = std::chrono::steady_clock::now();
    int status = 0;
    try {
      status = send(fresh, method, path, body, token).status;
    } catch (const Poco::Exception&) {
      status = -1;  // no answer within 3 s
    }
    return std::make_pair(
        status, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };

  testing::SlowClients slow(server_->port(), 500);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  double worst_health = 0, worst_completion = 0;
  int probes = 0, most_connected = 0;
  std::size_t completed = 0;
  for (int tick = 0; std::chrono::steady_clock::now() < until; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    most_connected = std::max(most_connected, slow.connected());
    auto [status, seconds] = timed("GET", "/healthz", "", "");
    EXPECT_EQ(status, 200) << "at probe " << probes;
    worst_health = std::max(worst_health, seconds);
    ++probes;
    if (tick % 9 == 8 && completed < assignments.size()) {
      auto [done, took] = timed(
          "POST", "/api/v1/tasks/" + assignments[completed] + "/complete",
          dumped(Value(json::Object{{"form", Value(json::Object{{"abogado", "elena_castro"}})}})),
          fernando);
      EXPECT_EQ(done, 200) << "completing " << assignments[completed];
      worst_completion = std::max(worst_completion, took);
      ++completed;
    }
  }
  EXPECT_GE(most_connected, 450) << "the slow clients were not all connected";
  EXPECT_EQ(completed, assignments.size());
  EXPECT_LT(worst_health, 1.0) << probes << " health probes";
  EXPECT_LT(worst_completion, 1.0) << completed << " completions";
  std::printf(
      "slow clients: %d connected at most, %d reopened; %d health probes, worst %.3f s;"
      " %zu completions, worst %.3f s\n",
      most_connected, slow.reopened(), probes, worst_health, completed, worst_completion);
}

TEST_F(ServerTest, ApiTokensAuthenticateUntilRevoked) {
  const std::string admin = login("admin");
  Reply made = call(
      "POST", "/api/v1/tokens",
      dumped(Value(json::Object{{"user", "luis_hernandez"}, {"name", "tablero de cumplimiento"}})),
      admin);
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string secret = made.str("token");
  EXPECT_EQ(secret.rfind("trm_", 0), 0u);
  Reply me = call("GET", "/api/v1/me", "", secret);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.str("user"), "luis_hernandez");
  EXPECT_EQ(call("GET", "/metrics", "", secret).status, 200);  // the compliance office monitors
  Reply listed = call("GET", "/api/v1/tokens", "", admin);
  EXPECT_EQ(listed.raw.find(secret), std::string::npos);  // secrets are never shown again
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/" + made.str("id"), "", admin).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/me", "", secret).status, 401);
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/" + made.str("id"), "", admin).status, 404);
}

// A token's user is remembered for principal_cache_ms (1 s): a directory change or a
// revocation made through this server applies at once, one made by another server on the same
// database once that time has passed.
TEST_F(ServerTest, RememberedPrincipalsFollowChangesAtOnceHereAndWithinASecondElsewhere) {
  const std::string admin = login("admin");
  const std::string carla = login("carla_mendez");
  Reply made =
      call("POST", "/api/v1/tokens",
           dumped(Value(json::Object{{"user", "luis_hernandez"}, {"name", "tablero"}})), admin);
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string secret = made.str("token");
  EXPECT_EQ(call("GET", "/api/v1/me", "", carla).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/me", "", secret).status, 200);

  // Here: carla is deactivated and loses access with the next request.
  auto directory = json::parse(readSourceFile("config/directory.json"));
  ASSERT_TRUE(directory);
  for (Value& u : directory->find("users")->asArray()) {
    if (u.find("id")->asString() == "carla_mendez") u.set("active", false);
  }
  EXPECT_EQ(call("PUT", "/api/v1/directory", dumped(*directory), admin).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/me", "", carla).status, 401);

  // Elsewhere: another server revokes luis's token; this one still knows it for up to 1 s.
  EXPECT_EQ(call("GET", "/api/v1/me", "", secret).status, 200);
  ApiOptions options;
  options.token_secret = std::string(32, 'k');
  Api other(engine_, store_, clock_, options);
  HttpRequest revoke;
  revoke.method = "DELETE";
  revoke.path = "/api/v1/tokens/" + made.str("id");
  revoke.headers["authorization"] = "Bearer " + admin;
  EXPECT_EQ(other.handle(revoke).status, 200);
  clock_.advance(999);
  EXPECT_EQ(call("GET", "/api/v1/me", "", secret).status, 200);
  clock_.advance(1);
  EXPECT_EQ(call("GET", "/api/v1/me", "", secret).status, 401);
}

// A remembered session token still expires at its own time, not the cache's.
TEST_F(ServerTest, ARememberedSessionTokenExpiresOnTime) {
  const std::string carla = login("carla_mendez");  // valid for 15 minutes
  clock_.advance(15 * 60'000 - 500);
  EXPECT_EQ(call("GET", "/api/v1/me", "", carla).status, 200);  // read now, remembered 1 s
  clock_.advance(500);
  EXPECT_EQ(call("GET", "/api/v1/me", "", carla).status, 401);
}

TEST_F(ServerTest, MetricsCountRequestsInstancesAndTasks) {
  const std::string carla = login("carla_mendez");
  ASSERT_EQ(call("POST", "/api/v1/instances",
                 dumped(Value(json::Object{
                     {"definition", "legal-review"},
                     {"business_key", "GJ-9"},
                     {"data", Value(json::Object{{"unidad", "gj"}, {"asunto", "Consulta"}})}})),
                 carla)
                .status,
            201);
  call("GET", "/api/v1/me", "", "bad");
  clock_.advance(10LL * 86'400'000);  // the assignment is overdue by now
  Reply m = call("GET", "/metrics", "", login("marta_rivas"));
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  for (const char* line :
       {"tramite_http_requests_total{route=\"POST /api/v1/instances\",status=\"201\"} 1",
        "tramite_http_requests_total{route=\"GET /api/v1/me\",status=\"401\"} 1",
        "tramite_http_request_duration_seconds_bucket{route=\"POST /api/v1/login\",le=\"+Inf\"} 2",
        "tramite_instances{state=\"running\"} 1", "tramite_tasks_open 1", "tramite_tasks_overdue 1",
        "tramite_timer_lag_seconds ", "tramite_group_commit_failures_total 0"}) {
    EXPECT_NE(m.raw.find(line), std::string::npos) << line << "\n" << m.raw;
  }
  // A metric's value; -1 when it is missing.
  auto metric = [&](const std::string& name) -> double {
    const std::size_t at = m.raw.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(m.raw.substr(at + name.size() + 2));
  };
  // The start went through group commit: at least one batch carrying it.
  EXPECT_GE(metric("tramite_group_commit_batches_total"), 1);
  EXPECT_GE(metric("tramite_group_commit_requests_total"),
            metric("tramite_group_commit_batches_total"));
  auto phase = [&](const std::string& name) {
    return metric("tramite_group_commit_seconds_total{phase=\"" + name + "\"}");
  };
  // Printed to the µs: the start's commit takes longer than that, a gathering may not.
  EXPECT_GE(phase("taking_writer"), 0) << m.raw;
  EXPECT_GE(phase("gathering"), 0) << m.raw;
  EXPECT_GE(phase("writing"), 0) << m.raw;
  EXPECT_GT(phase("committing"), 0) << m.raw;
}

// Instances talk through the BasicHTTP Event I/O Processor: a send becomes an outbox row the
// server posts (allow-listed hosts only, with an API token), the receiving route raises it
// as an event; a refused post comes back as error.communication.
TEST_F(ServerTest, BasicHttpSendsReachOtherInstancesOnce) {
  const char* receiver = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0"
      datamodel="lua" name="ping">
    <datamodel><data id="de" expr="''"/></datamodel>
    <state id="esperando">
      <transition event="ping" target="recibido">
        <assign location="de" expr="_event.data.remitente"/>
      </transition>
    </state>
    <final id="recibido"/>
  </scxml>)";
  const char* sender = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0"
      datamodel="lua" name="pinger">
    <datamodel><data id="url" expr="''"/></datamodel>
    <state id="enviado">
      <onentry>
        <send type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor" event="ping"
              targetexpr="url"><param name="remitente" expr="'pinger'"/></send>
      </onentry>
      <transition event="error.communication" target="fallo"/>
    </state>
    <final id="fallo"/>
  </scxml>)";
  ASSERT_TRUE(engine_->deploy("ping", receiver, "admin"));
  ASSERT_TRUE(engine_->deploy("pinger", sender, "admin"));
  auto start = [&](const std::string& definition, json::Value data) {
    runtime::StartRequest r;
    r.definition = definition;
    r.business_key = definition;
    r.actor = "admin";
    r.data = std::move(data);
    auto v = engine_->start(r);
    EXPECT_TRUE(v) << v.status().toString();
    return v ? v->id : std::string();
  };
  const std::string r1 = start("ping", {});
  const std::string url = server_->url() + "/api/v1/basichttp/" + r1;
  const std::string s1 = start("pinger", Value(json::Object{{"url", url}}));
  const std::string s2 = start("pinger", Value(json::Object{{"url", "http://example.com/x"}}));

  auto token = api_->createApiToken("admin", "basichttp", 0);
  ASSERT_TRUE(token);
  BasicHttpClient client({"127.0.0.1"}, 5'000, token->find("token")->asString());
  auto settled = deliverBasicHttpSends(*engine_, *store_, client, clock_.nowMs());
  ASSERT_TRUE(settled) << settled.status().toString();
  EXPECT_EQ(*settled, 2);
  EXPECT_EQ(*deliverBasicHttpSends(*engine_, *store_, client, clock_.nowMs()), 0);  // once

  auto received = engine_->get(r1);
  EXPECT_EQ(received->lifecycle, "completed");
  EXPECT_EQ(received->data.find("de")->asString(), "pinger");
  auto history = engine_->history(r1);
  bool by_token_user = false;
  for (const storage::HistoryRecord& h : *history) {
    by_token_user = by_token_user || (h.kind == "event" && h.actor == "admin" &&
                                      h.detail.find("\"ping\"") != std::string::npos);
  }
  EXPECT_TRUE(by_token_user);
  EXPECT_EQ(engine_->get(s1)->lifecycle, "running");  // its send went out
  auto refused = engine_->get(s2);
  EXPECT_EQ(refused->lifecycle, "completed");  // error.communication: not on the allow-list
  EXPECT_EQ(refused->configuration, std::vector<std::string>{"fallo"});

  // The same post again (a retry after a crash) is applied once; a POST without a token is
  // refused like any other call.
  const std::string r2 = start("ping", {});
  Reply first = call("POST", "/api/v1/basichttp/" + r2, "_scxmleventname=nada", login("admin"),
                     "application/x-www-form-urlencoded", {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(call("POST", "/api/v1/basichttp/" + r2, "_scxmleventname=ping").status, 401);
}

// Sends bytes on a fresh connection and returns everything the server sends back until it
// closes (or 5 s pass).
std::string rawExchange(int port, const std::string& bytes) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string answer;
  char buffer[4096];
  try {
    for (int n; (n = s.receiveBytes(buffer, sizeof buffer)) > 0;) answer.append(buffer, n);
  } catch (const Poco::Exception&) {
  }
  return answer;
}

// Keeps the lines written to one logger.
class CapturedLog final : public Poco::Channel {
 public:
  void log(const Poco::Message& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(message.getText());
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// Issue 26, item 16: a request that ran is logged even when its client reset the connection
// before the answer could be sent.
TEST(ServerLog, ARequestWhoseClientResetIsStillLogged) {
  Poco::AutoPtr<CapturedLog> captured(new CapturedLog);
  Poco::Logger& logger = Poco::Logger::get("tramite.http");
  Poco::AutoPtr<Poco::Channel> before(logger.getChannel(), true);
  logger.setChannel(captured);
  std::mutex mu;
  std::condition_variable cv;
  bool reset = false;
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.log_requests = true;
  Server server(
      [&](const HttpRequest&, RequestInfo* info) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return reset; });  // the write "ran"
        if (info) info->actor = "carla_mendez";
        HttpResponse r;
        r.status = 201;
        r.body = std::string(256 * 1024, 'x');  // more than the socket takes at once
        return r;
      },
      options);
  ASSERT_TRUE(server.start());
  {
    Poco::Net::StreamSocket s(
        Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
    const std::string request =
        "POST /api/v1/instances HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 2\r\n\r\n{}";
    s.sendBytes(request.data(), static_cast<int>(request.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the handler has it
    s.setLinger(true, 0);
    s.close();  // a reset
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    reset = true;
  }
  cv.notify_all();
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    for (const std::string& line : captured->lines()) {
      logged = logged || (line.find("path=/api/v1/instances status=201") != std::string::npos &&
                          line.find("actor=carla_mendez") != std::string::npos);
    }
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server.stop();
  logger.setChannel(before);
  EXPECT_TRUE(logged) << ::testing::PrintToString(captured->lines());
}

// Issue 26, item 16: a client cannot forge a log line: what it sends is escaped.
TEST_F(ServerTest, EveryRequestIsLoggedOnOneLine) {
  Poco::AutoPtr<CapturedLog> captured(new CapturedLog);
  Poco::Logger& logger = Poco::Logger::get("tramite.http");
  Poco::AutoPtr<Poco::Channel> before(logger.getChannel(), true);
  logger.setChannel(captured);
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.log_requests = true;
  Server logging(*api_, options);
  ASSERT_TRUE(logging.start());
  rawExchange(logging.port(),
              "GET /healthz%0amethod=POST%20path=/forged HTTP/1.1\r\nHost: x\r\n"
              "Connection: close\r\n\r\n");
  logging.stop();
  logger.setChannel(before);
  bool escaped = false;
  for (const std::string& line : captured->lines()) {
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_NE(line.rfind("method=POST path=/forged", 0), 0u) << line;
    escaped =
        escaped || line.find("path=/healthz\\x0amethod=POST\\x20path=/forged") != std::string::npos;
  }
  EXPECT_TRUE(escaped);
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(ServerTest, SpeaksHttp11PipelinedChunkedAndExpectingContinue) {
  const int port = server_->port();
  // Three requests in one write are answered in order on one connection; the last closes it.
  const std::string health = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a-";
  const std::string three =
      health + "1\r\n\r\n" + health + "2\r\n\r\n" + health + "3\r\nConnection: close\r\n\r\n";
  const std::string answers = rawExchange(port, three);
  EXPECT_EQ(count(answers, "HTTP/1.1 200 OK\r\n"), 3) << answers;
  EXPECT_LT(answers.find("X-Request-Id: a-1"), answers.find("X-Request-Id: a-2"));
  EXPECT_LT(answers.find("X-Request-Id: a-2"), answers.find("X-Request-Id: a-3"));
  EXPECT_EQ(count(answers, "Connection: close"), 1) << answers;

  // A chunked body.
  const std::string login =
      R"({"username": "admin", "password": ")" + std::string(kPassword) + "\"}";
  const std::string post =
      "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nConnection: close\r\n";
  std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
  for (std::size_t at = 0; at < login.size(); at += 10) {
    const std::string part = login.substr(at, 10);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    chunked += size + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  const std::string logged = rawExchange(port, chunked);
  EXPECT_EQ(logged.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << logged;
  EXPECT_NE(logged.find("\"token\""), std::string::npos) << logged;

  // Expect: 100-continue: the body is sent once the server asks for it.
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  const std::string head =
      post + "Expect: 100-continue\r\nContent-Length: " + std::to_string(login.size()) + "\r\n\r\n";
  s.sendBytes(head.data(), static_cast<int>(head.size()));
  char buffer[4096];
  const int n = s.receiveBytes(buffer, sizeof buffer);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  s.sendBytes(login.data(), static_cast<int>(login.size()));
  std::string final_answer;
  for (int got; (got = s.receiveBytes(buffer, sizeof buffer)) > 0;)
    final_answer.append(buffer, got);
  EXPECT_EQ(final_answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << final_answer;

  // Requests the server cannot read get the error shape, and the connection is closed.
  for (const std::string& bad :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /healthz HTTP/1.1\r\n\r\n"),
        std::string("POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n")}) {
    const std::string refused = rawExchange(port, bad);
    EXPECT_EQ(refused.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << refused;
    EXPECT_NE(refused.find("\"invalid_argument\""), std::string::npos) << refused;
    EXPECT_NE(refused.find("Connection: close"), std::string::npos) << refused;
  }
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

// Issue 26, item 11: a client gets so many connections at once (the next is answered 429
// and closed), and a head trickled in is cut at the head's deadline, however long the
// request's time.
TEST_F(ServerTest, ConnectionsPerClientAndTrickledHeadsAreBounded) {
  ServerOptions options;
  options.max_connections_per_client = 4;
  options.head_timeout_ms = 400;
  startServer(options);
  const int port = server_->port();
  Poco::Net::StreamSocket trickle = connectAndSend("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  trickle.setReceiveTimeout(Poco::Timespan(0, 50'000));
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    char buffer[256];
    try {
      closed = trickle.receiveBytes(buffer, sizeof buffer) <= 0;
    } catch (const Poco::TimeoutException&) {
      trickle.sendBytes("a", 1);  // one byte each 50 ms
    } catch (const Poco::Exception&) {
      closed = true;  // reset
    }
  }
  const double trickled =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(closed);
  EXPECT_GE(trickled, 0.35);
  EXPECT_LT(trickled, 2.0) << "a trickled head was not cut at its deadline";

  // Four connections kept alive (each has had an answer: the server took it) ...
  std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> held;
  for (int tries = 0; held.size() < 4 && tries < 100; ++tries) {
    auto s = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1",
                                                            static_cast<Poco::UInt16>(port));
    const int status = send(*s, "GET", "/healthz", "", "").status;
    if (status == 200) {
      held.push_back(std::move(s));
    } else {  // 429 while the trickled connection is still being let go
      EXPECT_EQ(status, 429);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_EQ(held.size(), 4u);
  // ... and the fifth is refused with 429 and closed.
  const std::string fifth = rawExchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(fifth.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0u) << fifth;
  EXPECT_NE(fifth.find("too many connections from 127.0.0.1"), std::string::npos) << fifth;
  EXPECT_NE(fifth.find("Connection: close"), std::string::npos) << fifth;
  // Once one of the four closes, another client connection is served.
  held.back()->reset();
  std::string served;
  for (int tries = 0; served.rfind("HTTP/1.1 200 ", 0) != 0 && tries < 100; ++tries) {
    if (tries > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    served = rawExchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }
  EXPECT_EQ(served.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << served;
}

// A process the server's process starts does not inherit its sockets: a connection the
// server closes at its deadline is closed for the client then, not when the child exits.
TEST_F(ServerTest, ChildProcessesDoNotHoldConnectionsOpen) {
  ServerOptions options;
  options.head_timeout_ms = 300;
  startServer(options);
  Poco::Net::StreamSocket slow = connectAndSend("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(call("GET", "/healthz").status, 200);  // the slow connection has been accepted
  std::thread child([] { EXPECT_EQ(std::system("sleep 3"), 0); });  // forks while it is open
  const double waited = secondsUntilClosed(slow);
  child.join();
  EXPECT_LT(waited, 2.0) << "the connection stayed open in the child process";
}

// Whole requests wait for a worker up to max_queued; beyond, the server answers 503 itself.
TEST(ServerLimits, RequestsBeyondTheWorkersAndTheQueueAreAnswered503) {
  std::mutex mu;
  std::condition_variable changed;
  int entered = 0;
  bool release = false;
  ServerOptions options;
  options.port = 0;
  options.max_threads = 1;
  options.max_queued = 0;
  options.log_requests = false;
  Server server(
      [&](const HttpRequest&, RequestInfo*) {
        std::unique_lock<std::mutex> lock(mu);
        ++entered;
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
        HttpResponse response;
        response.body = "{}";
        return response;
      },
      options);
  ASSERT_TRUE(server.start());
  const std::string request = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string first;
  std::thread held([&] { first = rawExchange(server.port(), request); });
  {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return entered == 1; });
  }
  const std::string busy = rawExchange(server.port(), request);
  EXPECT_EQ(busy.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << busy;
  EXPECT_NE(busy.find("the server is busy"), std::string::npos) << busy;
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  changed.notify_all();
  held.join();
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
  EXPECT_EQ(rawExchange(server.port(), request).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(entered, 2);
}

TEST_F(ServerTest, StoppingClosesIdleConnectionsAtOnce) {
  EXPECT_EQ(call("GET", "/healthz").status, 200);  // the session keeps its connection
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop(10'000);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 2.0) << "stop waited for an idle keep-alive connection";
}

TEST_F(ServerTest, ServesOverTlsWithAThrowawayCertificate) {
  const std::string key = (dir_ / "server.key").string();
  const std::string cert = (dir_ / "server.crt").string();
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
  ServerOptions tls;
  tls.tls_certificate = cert;
  tls.tls_private_key = key;
  startServer(tls);
  EXPECT_EQ(server_->url().rfind("https://127.0.0.1:", 0), 0u);

  // The client trusts exactly that certificate and checks the host name.
  Poco::Net::initializeSSL();
  Poco::Net::Context::Ptr context = new Poco::Net::Context(
      Poco::Net::Context::TLS_CLIENT_USE, "", "", cert, Poco::Net::Context::VERIFY_STRICT);
  Poco::Net::HTTPSClientSession https("127.0.0.1", static_cast<Poco::UInt16>(server_->port()),
                                      context);
  Reply health = send(https, "GET", "/healthz", "", "");
  EXPECT_EQ(health.status, 200);
  Reply logged =
      send(https, "POST", "/api/v1/login",
           dumped(Value(json::Object{{"username", "admin"}, {"password", kPassword}})), "");
  ASSERT_EQ(logged.status, 200) << logged.raw;
  EXPECT_EQ(send(https, "GET", "/api/v1/me", "", logged.str("token")).status, 200);
  // A BasicHTTP post to it is refused: its certificate is not among the system's trusted CAs.
  BasicHttpClient client({"127.0.0.1"}, 2'000);
  Status untrusted =
      client.post(server_->url() + "/api/v1/basichttp/x", scxml::Event::external("ping"));
  EXPECT_EQ(untrusted.code(), ErrorCode::kUnavailable) << untrusted.toString();
  EXPECT_NE(untrusted.message().find("certificate"), std::string::npos) << untrusted.message();
  // Plain HTTP to the TLS port gets no answer.
  Poco::Net::HTTPClientSession plain("127.0.0.1", static_cast<Poco::UInt16>(server_->port()));
  plain.setTimeout(Poco::Timespan(2, 0));
  EXPECT_ANY_THROW(send(plain, "GET", "/healthz", "", ""));
}

}  // namespace
}  // namespace tramite::api
