#include "tramite/api/basichttp.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <sstream>

#include "http_client.h"
#include "tramite/text.h"

namespace tramite::api {

namespace {

// Percent-encodes everything but unreserved characters (a space is %20, which every form
// decoder reads, as it does '+').
std::string formEncode(const std::string& text) {
  std::string out;
  Poco::URI::encode(text, "!'()*+,;=:/?#[]@$&\"<>{}|\\^`%", out);
  return out;
}

std::string formDecode(const std::string& text) {
  std::string plus = text;
  std::replace(plus.begin(), plus.end(), '+', ' ');
  std::string out;
  try {
    Poco::URI::decode(plus, out);
  } catch (const Poco::Exception&) {
    return plus;  // malformed escapes are kept as they came
  }
  return out;
}

std::string fieldText(const json::Value& v) {
  return v.isString() ? v.asString() : json::dump(v);
}

}  // namespace

BasicHttpPost encodeBasicHttp(const scxml::Event& event) {
  std::vector<std::string> fields;
  if (!event.name.empty()) fields.push_back("_scxmleventname=" + formEncode(event.name));
  if (event.data.isObject()) {
    for (const auto& [key, value] : event.data.asObject()) {
      fields.push_back(formEncode(key) + "=" + formEncode(fieldText(value)));
    }
  } else if (!event.data.isNull()) {
    fields.push_back(formEncode(fieldText(event.data)));  // a <content> body
  }
  BasicHttpPost post;
  post.content_type = "application/x-www-form-urlencoded";
  post.body = join(fields, "&");
  return post;
}

scxml::Event decodeBasicHttp(const HttpRequest& request) {
  scxml::Event e;
  e.type = scxml::EventType::kExternal;
  e.origintype = scxml::kBasicHttpProcessorType;
  std::ostringstream raw;
  raw << request.method << " " << request.path << " HTTP/1.1\r\n";
  for (const auto& [name, value] : request.headers) raw << name << ": " << value << "\r\n";
  raw << "\r\n" << request.body;
  e.raw = raw.str();
  json::Object data;
  const std::string& type = request.header("content-type");
  if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    std::size_t start = 0;
    while (start <= request.body.size() && !request.body.empty()) {
      std::size_t end = request.body.find('&', start);
      if (end == std::string::npos) end = request.body.size();
      const std::string pair = request.body.substr(start, end - start);
      const std::size_t eq = pair.find('=');
      const std::string key = formDecode(pair.substr(0, eq));
      const std::string value = eq == std::string::npos ? "" : formDecode(pair.substr(eq + 1));
      if (key == "_scxmleventname") {
        e.name = value;
      } else if (!key.empty()) {
        data.emplace_back(key, json::Value(value));
      }
      start = end + 1;
    }
  } else if (!request.body.empty()) {
    auto parsed = json::parse(request.body);
    e.data = parsed ? *parsed : json::Value(request.body);
  }
  if (!data.empty()) e.data = json::Value(std::move(data));
  if (e.name.empty()) e.name = request.header("_scxmleventname");
  if (e.name.empty()) e.name = "HTTP." + request.method;
  return e;
}

BasicHttpClient::BasicHttpClient(std::vector<std::string> allowed_hosts, std::int64_t timeout_ms,
                                 std::string bearer_token)
    : allowed_hosts_(std::move(allowed_hosts)),
      timeout_ms_(timeout_ms),
      bearer_token_(std::move(bearer_token)) {}

std::unique_ptr<Poco::Net::HTTPClientSession> clientSession(const Poco::URI& uri,
                                                            std::int64_t timeout_ms) {
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (uri.getScheme() == "https") {
    // The peer's certificate is checked against the system's trusted CAs and its name.
    static std::once_flag ssl_once;
    static Poco::Net::Context::Ptr context;
    std::call_once(ssl_once, [] {
      Poco::Net::initializeSSL();
      context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                       Poco::Net::Context::VERIFY_RELAXED, 9,
                                       /*loadDefaultCAs=*/true);
    });
    session =
        std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
  }
  session->setTimeout(Poco::Timespan(timeout_ms * 1000));
  return session;
}

Status BasicHttpClient::post(const std::string& url, const scxml::Event& event,
                             const std::string& idempotency_key) const {
  Poco::URI uri;
  try {
    uri = Poco::URI(url);
  } catch (const Poco::Exception& e) {
    return Status(ErrorCode::kPermissionDenied, "not a URL: " + url);
  }
  if (uri.getScheme() != "http" && uri.getScheme() != "https") {
    return Status(ErrorCode::kPermissionDenied, "BasicHTTP posts to http(s) URLs only: " + url);
  }
  if (std::find(allowed_hosts_.begin(), allowed_hosts_.end(), uri.getHost()) ==
      allowed_hosts_.end()) {
    return Status(ErrorCode::kPermissionDenied,
                  "host '" + uri.getHost() + "' is not on the BasicHTTP allow-list");
  }
  const BasicHttpPost post = encodeBasicHttp(event);
  try {
    std::unique_ptr<Poco::Net::HTTPClientSession> session = clientSession(uri, timeout_ms_);
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType(post.content_type);
    req.setContentLength(static_cast<std::streamsize>(post.body.size()));
    if (!event.name.empty()) req.set("_scxmleventname", event.name);
    if (!idempotency_key.empty()) req.set("Idempotency-Key", idempotency_key);
    if (!bearer_token_.empty()) req.set("Authorization", "Bearer " + bearer_token_);
    session->sendRequest(req) << post.body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session->receiveResponse(resp);
    std::string ignored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (resp.getStatus() < 200 || resp.getStatus() >= 300) {
      return Status(ErrorCode::kUnavailable,
                    url + " answered " + std::to_string(static_cast<int>(resp.getStatus())));
    }
    return Status::ok();
  } catch (const Poco::Exception& e) {
    return Status(ErrorCode::kUnavailable, "posting to " + url + ": " + e.displayText());
  }
}

}  // namespace tramite::api
