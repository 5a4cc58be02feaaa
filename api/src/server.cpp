#include "tramite/api/server.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Thread.h>
#include <Poco/URI.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <istream>
#include <mutex>

#include "tramite/text.h"

namespace tramite::api {

namespace {

// A request id: the client's X-Request-Id when it is short and printable, else a counter.
std::string requestIdFor(const Poco::Net::HTTPServerRequest& req) {
  static std::atomic<std::uint64_t> next{1};
  const std::string given = req.get("X-Request-Id", "");
  const bool usable =
      !given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
  if (usable) return given;
  char id[32];
  std::snprintf(id, sizeof id, "r%llu", static_cast<unsigned long long>(next++));
  return id;
}

struct Hooks {
  RequestHandler handle;
  RejectionCounter rejected;
};

class Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(const Hooks& hooks, const ServerOptions& options) : hooks_(hooks), options_(options) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    const auto started = std::chrono::steady_clock::now();
    HttpRequest in;
    in.request_id = requestIdFor(req);
    in.method = req.getMethod();
    HttpResponse out;
    RequestInfo info;
    info.route = "unmatched";
    if (Status st = readRequest(req, in); !st) {
      out = errorResponse(st);
      resp.setKeepAlive(false);  // an unread body is left on the connection
      if (hooks_.rejected) hooks_.rejected("rejected", out.status, seconds(started));
    } else {
      out = hooks_.handle(in, &info);
    }
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
    resp.setContentType(out.content_type);
    resp.set("X-Request-Id", in.request_id);
    resp.set("X-Content-Type-Options", "nosniff");
    resp.set("Cache-Control", "no-store");
    for (const auto& [name, value] : out.headers) resp.set(name, value);
    resp.setContentLength(static_cast<std::streamsize>(out.body.size()));
    resp.sendBuffer(out.body.data(), out.body.size());
    if (options_.log_requests) {
      Poco::Logger::get("tramite.http")
          .information(
              "method=%s path=%s status=%d duration_ms=%.2f actor=%s request_id=%s remote=%s",
              in.method, in.path.empty() ? req.getURI() : in.path, out.status,
              seconds(started) * 1000.0, info.actor.empty() ? "-" : info.actor, in.request_id,
              req.clientAddress().toString());
    }
  }

 private:
  static double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  }

  Status readRequest(Poco::Net::HTTPServerRequest& req, HttpRequest& in) {
    try {
      Poco::URI uri(req.getURI());
      in.path = uri.getPath();
      for (auto& [k, v] : uri.getQueryParameters()) in.query.emplace_back(k, v);
    } catch (const Poco::Exception& e) {
      return Status(ErrorCode::kInvalidArgument, "malformed request URI: " + e.message());
    }
    for (const auto& [name, value] : req) in.headers[asciiLower(name)] = value;
    const std::size_t max = options_.max_body_bytes;
    std::istream& body = req.stream();
    char buffer[16384];
    // A body over the limit is read and dropped (up to 16 times the limit, within the socket
    // timeout) so the client sees the 413 rather than a reset connection; beyond that the
    // connection is simply closed.
    auto discard = [&] {
      std::size_t dropped = 0;
      while (body && dropped < 16 * max) {
        body.read(buffer, sizeof buffer);
        dropped += static_cast<std::size_t>(body.gcount());
      }
      return Status(ErrorCode::kResourceExhausted,
                    "the body exceeds " + std::to_string(max) + " bytes");
    };
    if (req.hasContentLength() && req.getContentLength64() > static_cast<Poco::Int64>(max)) {
      return discard();
    }
    while (body) {
      body.read(buffer, sizeof buffer);
      in.body.append(buffer, static_cast<std::size_t>(body.gcount()));
      if (in.body.size() > max) {
        in.body.clear();
        return discard();
      }
    }
    return Status::ok();
  }

  const Hooks& hooks_;
  const ServerOptions& options_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(const Hooks& hooks, const ServerOptions& options) : hooks_(hooks), options_(options) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(hooks_, options_);
  }

 private:
  const Hooks& hooks_;
  const ServerOptions& options_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(Hooks hooks, ServerOptions options)
      : hooks_(std::move(hooks)), options_(std::move(options)) {}

  Status start() {
    try {
      Poco::Net::SocketAddress address(options_.host, static_cast<Poco::UInt16>(options_.port));
      const bool tls = !options_.tls_certificate.empty() || !options_.tls_private_key.empty();
      if (tls) {
        if (options_.tls_certificate.empty() || options_.tls_private_key.empty()) {
          return Status(ErrorCode::kInvalidArgument,
                        "TLS needs both a certificate and a private key");
        }
        static std::once_flag ssl_once;
        std::call_once(ssl_once, [] { Poco::Net::initializeSSL(); });
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options_.tls_private_key,
                                   options_.tls_certificate, "", Poco::Net::Context::VERIFY_NONE);
        context->disableProtocols(
            Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
            Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
        socket_ = std::make_unique<Poco::Net::SecureServerSocket>(address, 128, context);
      } else {
        socket_ = std::make_unique<Poco::Net::ServerSocket>(address, 128);
      }
      scheme_ = tls ? "https" : "http";
      auto* params = new Poco::Net::HTTPServerParams;
      params->setMaxThreads(options_.max_threads);
      params->setMaxQueued(options_.max_queued);
      params->setTimeout(Poco::Timespan(options_.request_timeout_ms * 1000));
      params->setKeepAlive(true);
      params->setKeepAliveTimeout(Poco::Timespan(10, 0));
      params->setServerName("tramite");
      pool_ = std::make_unique<Poco::ThreadPool>(2, options_.max_threads);
      server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(hooks_, options_), *pool_,
                                                        *socket_, params);
      server_->start();
      return Status::ok();
    } catch (const Poco::Exception& e) {
      socket_.reset();
      return Status(ErrorCode::kUnavailable, "cannot serve on " + options_.host + ":" +
                                                 std::to_string(options_.port) + ": " +
                                                 e.displayText());
    }
  }

  void stop(std::int64_t drain_ms) {
    if (!server_) return;
    server_->stop();  // no new connections; those in flight go on
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
    while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
      Poco::Thread::sleep(20);
    }
    server_->stopAll(true);
    pool_->joinAll();
    server_.reset();
  }

  int port() const { return socket_ ? socket_->address().port() : 0; }
  std::string url() const { return scheme_ + "://" + options_.host + ":" + std::to_string(port()); }

 private:
  Hooks hooks_;
  ServerOptions options_;
  std::string scheme_ = "http";
  std::unique_ptr<Poco::Net::ServerSocket> socket_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

Server::Server(Api& api, ServerOptions options)
    : Server([&api](const HttpRequest& r, RequestInfo* info) { return api.handle(r, info); },
             std::move(options),
             [&api](const std::string& route, int status, double seconds) {
               api.countRequest(route, status, seconds);
             }) {}

Server::Server(RequestHandler handler, ServerOptions options, RejectionCounter rejected)
    : impl_(std::make_unique<Impl>(Hooks{std::move(handler), std::move(rejected)},
                                   std::move(options))) {}

Server::~Server() {
  impl_->stop(10'000);
}

Status Server::start() {
  return impl_->start();
}
void Server::stop(std::int64_t drain_ms) {
  impl_->stop(drain_ms);
}
int Server::port() const {
  return impl_->port();
}
std::string Server::url() const {
  return impl_->url();
}

}  // namespace tramite::api
