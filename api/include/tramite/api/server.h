// The HTTP(S) server feeding Api::handle. An event loop (Boost.Asio; TLS through its OpenSSL
// streams when a certificate and key are configured) reads every connection's requests and
// writes their answers, so a slow or idle client holds a socket and a few KiB, never a thread;
// a fixed pool of workers runs the handler once a whole request has arrived. Our HTTP/1.1
// (keep-alive, pipelining, chunked bodies, 100-continue), limits on connections per client,
// body size, headers and the time a head, a body and an answer may take, and one structured
// log line per request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tramite/api/api.h"
#include "tramite/status.h"

namespace tramite::api {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless configured otherwise
  int port = 8080;                 // 0: an ephemeral port (see Server::port)
  std::string tls_certificate;     // PEM files; both set: HTTPS only
  std::string tls_private_key;
  int max_threads = 16;                  // workers running the handler
  int max_queued = 256;                  // whole requests waiting for a worker; beyond, 503
  int io_threads = 1;                    // threads of the event loop
  int max_connections = 4096;            // open at once; beyond, 503 and closed
  int max_connections_per_client = 128;  // from one address; beyond, 429 and closed
  std::size_t max_body_bytes = 1 << 20;  // larger bodies get 413 and are never handled
  // The time a request's head may take to arrive from its first byte (or the request's time if
  // shorter), and a whole request; an answer has as long to be taken by the client. A
  // connection idle between requests is closed after 10 s, or the request's time if shorter.
  std::int64_t head_timeout_ms = 10'000;
  std::int64_t request_timeout_ms = 30'000;
  bool log_requests = true;  // one line per request on the "tramite.http" logger
};

// Answers a request (called from the server's threads at once); fills info for the log.
using RequestHandler = std::function<HttpResponse(const HttpRequest&, RequestInfo*)>;
// Told of requests the server refused itself (malformed, body too large): route, status,
// seconds.
using RejectionCounter = std::function<void(const std::string&, int, double)>;

class Server {
 public:
  // Serves the API; api must outlive the server.
  Server(Api& api, ServerOptions options);
  // Serves any handler (the conformance harness's BasicHTTP endpoint, for one).
  Server(RequestHandler handler, ServerOptions options, RejectionCounter rejected = {});
  ~Server();  // stops (draining) if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving. Errors: kUnavailable (address in use, TLS files unreadable).
  Status start();
  // Stops accepting and closes idle connections, waits up to drain_ms for requests in
  // flight (answered with Connection: close), then closes the rest.
  void stop(std::int64_t drain_ms = 10'000);

  int port() const;         // the bound port
  std::string url() const;  // e.g. https://127.0.0.1:8443

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tramite::api
