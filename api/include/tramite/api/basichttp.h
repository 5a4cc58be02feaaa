// SCXML's BasicHTTP Event I/O Processor (SCXML 1.0 appendix C.2) on Poco: how a
// <send type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor"> becomes an HTTP POST, how
// a POST becomes an SCXML event, and the client that posts to allow-listed hosts only (the
// poster of workers::deliverBasicHttpSends, which delivers an instance's sends).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tramite/api/http.h"
#include "tramite/clock.h"
#include "tramite/runtime/engine.h"
#include "tramite/scxml/event.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"
#include "tramite/workers/deliveries.h"

namespace tramite::api {

struct BasicHttpPost {
  std::string content_type;  // application/x-www-form-urlencoded
  std::string body;
};

// The POST a send becomes: the event name as the form field _scxmleventname, each <param>
// and namelist value as a form field (strings as they are, other values as JSON), and a
// <content> body form-encoded as the message body.
BasicHttpPost encodeBasicHttp(const scxml::Event& event);

// The event a POST becomes: named by the _scxmleventname form field (or header), else
// "HTTP.<METHOD>"; the other form fields are _event.data; _event.raw is the request as
// received; origintype is the BasicHTTP processor's URI.
scxml::Event decodeBasicHttp(const HttpRequest& request);

class BasicHttpClient final : public workers::EventPoster {
 public:
  // Only URLs whose host is in allowed_hosts (exact names or addresses) are posted to.
  // bearer_token, when set, is sent as "Authorization: Bearer ..." (an API token of the
  // receiving Tramite server).
  BasicHttpClient(std::vector<std::string> allowed_hosts, std::int64_t timeout_ms,
                  std::string bearer_token = {});

  // Posts event to url. idempotency_key, when set, is sent as Idempotency-Key (Tramite's
  // receivers deliver a retried post once). Errors: kPermissionDenied (host not allowed,
  // not http/https), kUnavailable (no connection, timeout, a non-2xx answer).
  Status post(const std::string& url, const scxml::Event& event,
              const std::string& idempotency_key = {}) const override;

 private:
  std::vector<std::string> allowed_hosts_;
  std::int64_t timeout_ms_;
  std::string bearer_token_;
};

}  // namespace tramite::api
