// HTTP requests and responses as plain values, so the API's handlers run without sockets
// (tests call Api::handle directly; the server converts Poco's objects to these).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tramite::api {

struct HttpRequest {
  std::string method;  // upper case: GET, POST, PUT, DELETE
  std::string path;    // decoded path without the query, e.g. /api/v1/tasks/t-1/claim
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::map<std::string, std::string> headers;              // names in lower case
  std::string body;
  std::string request_id;  // set by the server (X-Request-Id or generated)

  // The header's value, or "" (name in lower case).
  const std::string& header(const std::string& name) const;
  // The first value of a query parameter, or nullptr.
  const std::string* param(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

}  // namespace tramite::api
