#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <iterator>

#include "http_client.h"
#include "tramite/api/tsa.h"
#include "tramite/signing/cms.h"

namespace tramite::api {

std::function<Result<std::string>(const std::string& query)> timestampAuthority(
    std::string url, std::int64_t timeout_ms) {
  return [url = std::move(url), timeout_ms](const std::string& query) -> Result<std::string> {
    constexpr std::size_t kMaxReply = 1 << 20;
    try {
      const Poco::URI uri(url);
      if (uri.getScheme() != "http" && uri.getScheme() != "https") {
        return Status(ErrorCode::kInvalidArgument, "the TSA URL is not http(s): " + url);
      }
      auto session = clientSession(uri, timeout_ms);
      Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                                 Poco::Net::HTTPMessage::HTTP_1_1);
      req.setContentType("application/timestamp-query");
      req.setContentLength(static_cast<std::streamsize>(query.size()));
      session->sendRequest(req) << query;
      Poco::Net::HTTPResponse resp;
      std::istream& in = session->receiveResponse(resp);
      std::string reply;
      char buf[8192];
      while (in && reply.size() <= kMaxReply) {
        in.read(buf, sizeof buf);
        reply.append(buf, static_cast<std::size_t>(in.gcount()));
      }
      if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
        return Status(ErrorCode::kUnavailable,
                      "the TSA at " + url + " answered " +
                          std::to_string(static_cast<int>(resp.getStatus())));
      }
      if (resp.getContentType().rfind("application/timestamp-reply", 0) != 0) {
        return Status(ErrorCode::kUnavailable, "the TSA at " + url + " answered " +
                                                   resp.getContentType() +
                                                   ", not application/timestamp-reply");
      }
      if (reply.size() > kMaxReply) {
        return Status(ErrorCode::kUnavailable, "the TSA's answer exceeds 1 MiB");
      }
      return reply;
    } catch (const Poco::Exception& e) {
      return Status(ErrorCode::kUnavailable, "the TSA at " + url + ": " + e.displayText());
    }
  };
}

std::function<Result<std::string>(const std::string& data)> timestampStamp(
    std::function<Result<std::string>(const std::string& query)> tsa) {
  return [tsa = std::move(tsa)](const std::string& data) -> Result<std::string> {
    auto query = signing::timestampQueryFor(data);
    if (!query) return query.status();
    auto reply = tsa(*query);
    if (!reply) return reply.status();
    return signing::timestampTokenFor(*query, *reply, data);
  };
}

}  // namespace tramite::api
