#include "tramite/api/server.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/Thread.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "http1.h"

namespace tramite::api {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::int64_t kKeepAliveMs = 10'000;   // how long an idle connection is kept
constexpr std::size_t kCopiedBody = 64 * 1024;  // larger bodies are sent apart from the head

double secondsSince(SteadyTime since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// A request id: the client's X-Request-Id when it is short and printable, else a counter.
std::string requestIdFor(const std::string& given) {
  static std::atomic<std::uint64_t> next{1};
  const bool usable =
      !given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
  if (usable) return given;
  char id[32];
  std::snprintf(id, sizeof id, "r%llu", static_cast<unsigned long long>(next++));
  return id;
}

// Today's Date header, formatted once a second per thread.
const std::string& dateNow() {
  thread_local std::time_t formatted_at = -1;
  thread_local std::string date;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_at) {
    date = http1::httpDate(now);
    formatted_at = now;
  }
  return date;
}

// The connections being served, so that stopping can close those waiting idle for a request
// at once and, after the drain time, the rest.
class Connections {
 public:
  void add(Poco::Net::StreamSocket* s) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_[s] = false;
  }
  void remove(Poco::Net::StreamSocket* s) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.erase(s);
  }
  // Marks a connection as waiting for its next request (idle) or reading one. Returns false
  // when the server is stopping: an idle connection closes instead of waiting.
  bool setIdle(Poco::Net::StreamSocket* s, bool idle) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_[s] = idle;
    return !stopping_;
  }
  bool stopping() const { return stopping_; }
  // No connection takes another request; idle ones are closed now.
  void stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [s, idle] : idle_) {
      if (idle) ::shutdown(s->impl()->sockfd(), SHUT_RD);
    }
  }
  // Closes every connection, busy or not.
  void abort() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& entry : idle_) ::shutdown(entry.first->impl()->sockfd(), SHUT_RDWR);
  }

 private:
  std::mutex mu_;
  std::unordered_map<Poco::Net::StreamSocket*, bool> idle_;
  std::atomic<bool> stopping_{false};
};

struct Shared {
  RequestHandler handle;
  RejectionCounter rejected;
  ServerOptions options;
  http1::Limits limits;
  Connections connections;
};

// One connection: HTTP/1.1 requests read and answered in turn (keep-alive, pipelined ones
// too), until the client closes, a timeout, an unreadable request, or the server stops.
class Connection final : public Poco::Net::TCPServerConnection {
 public:
  Connection(const Poco::Net::StreamSocket& socket, Shared& shared)
      : TCPServerConnection(socket), shared_(shared) {}

  void run() override {
    Poco::Net::StreamSocket& s = socket();
    const std::int64_t timeout_ms = std::min(kKeepAliveMs, shared_.options.request_timeout_ms);
    try {
      s.setNoDelay(true);
      s.setReceiveTimeout(Poco::Timespan(timeout_ms * 1000));
      s.setSendTimeout(Poco::Timespan(shared_.options.request_timeout_ms * 1000));
      // Taken now: once the client resets the connection its address can no longer be read,
      // and the request that ran must still be logged.
      remote_ = s.peerAddress().toString();
    } catch (const Poco::Exception&) {
      return;
    }
    shared_.connections.add(&s);
    try {
      while (serveOne()) {
      }
    } catch (const Poco::Exception&) {
      // reset, timed out or closed: nothing more to answer on this connection
    }
    shared_.connections.remove(&s);
  }

 private:
  // Reads, handles and answers one request. Returns whether the connection goes on.
  bool serveOne() {
    if (in_.empty()) {
      if (!shared_.connections.setIdle(&socket(), true)) return false;
      const bool got = receive();
      shared_.connections.setIdle(&socket(), false);
      if (!got) return false;
    }
    started_ = std::chrono::steady_clock::now();
    deadline_ = started_ + std::chrono::milliseconds(shared_.options.request_timeout_ms);
    http1::HeadScanner scanner(shared_.limits);
    std::size_t head_length = 0;
    for (;;) {
      auto scanned = scanner.scan(in_);
      if (!scanned) return refuse(scanned.status(), 1);
      if ((head_length = *scanned) > 0) break;
      if (!receiveInTime()) return false;
    }
    auto head = http1::parseHead(std::string_view(in_).substr(0, head_length), shared_.limits);
    if (!head) return refuse(head.status(), 1);
    in_.erase(0, head_length);

    HttpRequest request;
    if (Status st = prepare(*head, request); !st) return refuse(st, head->minor_version);
    std::optional<Status> body = readBody(*head, request.body);
    if (!body) return false;
    if (!*body) return refuse(*body, head->minor_version);
    RequestInfo info;
    info.route = "unmatched";
    HttpResponse response = shared_.handle(request, &info);
    const bool keep_alive = head->keep_alive && !shared_.connections.stopping();
    // The request ran (a write may have committed): it is logged whether or not its answer
    // reaches a client that may have gone (a reset throws).
    bool sent = false;
    try {
      sent = send(response, request.request_id, head->minor_version, keep_alive,
                  request.method == "HEAD");
    } catch (const Poco::Exception&) {
      sent = false;
    }
    log(request, response, info, sent);
    return sent && keep_alive;
  }

  // The request's method, path, query, headers and id from its head.
  static Status prepare(http1::RequestHead& head, HttpRequest& request) {
    try {
      Poco::URI uri(head.target);
      request.path = uri.getPath();
      for (auto& [k, v] : uri.getQueryParameters()) request.query.emplace_back(k, v);
    } catch (const Poco::Exception& e) {
      return Status(ErrorCode::kInvalidArgument, "malformed request URI: " + e.message());
    }
    request.method = std::move(head.method);
    auto id = head.headers.find("x-request-id");
    request.request_id = requestIdFor(id == head.headers.end() ? std::string() : id->second);
    request.headers = std::move(head.headers);
    return Status::ok();
  }

  // Reads the body (by Content-Length or chunked) into body. A body over the limit is read
  // and dropped (up to 16 times the limit, within the request's time) so the client sees the
  // 413 rather than a reset connection. Returns the status to answer with, or nothing when
  // the connection is lost (closed, too slow, a body too large to drop): no answer then.
  std::optional<Status> readBody(const http1::RequestHead& head, std::string& body) {
    const std::size_t max = shared_.options.max_body_bytes;
    const Status too_large(ErrorCode::kResourceExhausted,
                           "the body exceeds " + std::to_string(max) + " bytes");
    if (head.chunked) {
      if (head.expect_continue && !sendContinue()) return std::nullopt;
      http1::ChunkedDecoder decoder;
      std::string* into = &body;
      for (;;) {
        auto used = decoder.feed(in_, into);
        if (!used) return used.status();
        in_.erase(0, *used);
        if (into && decoder.decoded() > max) {
          body.clear();
          into = nullptr;
        }
        if (decoder.done()) return into ? Status::ok() : too_large;
        if (decoder.decoded() > 16 * static_cast<std::uint64_t>(max) || !receiveInTime()) {
          return std::nullopt;
        }
      }
    }
    const std::uint64_t length = head.content_length.value_or(0);
    if (length > max) {
      if (head.expect_continue) return too_large;  // not sent yet: nothing to drop
      std::uint64_t dropped = std::min<std::uint64_t>(length, in_.size());
      in_.erase(0, static_cast<std::size_t>(dropped));
      while (dropped < length && dropped < 16 * static_cast<std::uint64_t>(max) &&
             receiveInTime()) {
        const auto n = std::min<std::uint64_t>(length - dropped, in_.size());
        in_.erase(0, static_cast<std::size_t>(n));
        dropped += n;
      }
      return too_large;
    }
    if (head.expect_continue && length > in_.size() && !sendContinue()) return std::nullopt;
    while (in_.size() < length) {
      if (!receiveInTime()) return std::nullopt;
    }
    const auto n = static_cast<std::size_t>(length);
    if (n == in_.size() && n > kCopiedBody) {
      body.swap(in_);  // a large upload is not copied
      in_.clear();
    } else {
      body.assign(in_, 0, n);
      in_.erase(0, n);
    }
    return Status::ok();
  }

  // Answers a request the server refuses itself (malformed, too large), then closes.
  bool refuse(const Status& status, int minor_version) {
    HttpResponse response = errorResponse(status);
    send(response, requestIdFor(""), minor_version, /*keep_alive=*/false, false);
    if (shared_.rejected) shared_.rejected("rejected", response.status, secondsSince(started_));
    return false;
  }

  bool sendContinue() {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    return sendAll(kContinue.data(), kContinue.size());
  }

  // Sends the response; false when the connection is lost.
  bool send(HttpResponse& response, const std::string& request_id, int minor_version,
            bool keep_alive, bool head_only) {
    auto byDefault = [&](const char* name, const std::string& value) {
      for (const auto& field : response.headers) {
        if (::strcasecmp(field.first.c_str(), name) == 0) return;
      }
      response.headers.emplace_back(name, value);
    };
    byDefault("X-Request-Id", request_id);
    byDefault("X-Content-Type-Options", "nosniff");
    byDefault("Cache-Control", "no-store");
    out_.clear();
    http1::ResponseHead head;
    head.status = response.status;
    head.minor_version = minor_version;
    head.content_type = response.content_type;
    head.headers = &response.headers;
    head.body_length = response.body.size();
    head.keep_alive = keep_alive;
    head.date = dateNow();
    http1::appendResponseHead(out_, head);
    const bool with_body =
        !head_only && response.status >= 200 && response.status != 204 && response.status != 304;
    const bool apart = with_body && response.body.size() > kCopiedBody;
    if (with_body && !apart) out_ += response.body;
    return sendAll(out_.data(), out_.size()) &&
           (!apart || sendAll(response.body.data(), response.body.size()));
  }

  // Poco throws on a reset or a timeout; run() ends the connection then.
  bool sendAll(const char* data, std::size_t size) {
    while (size > 0) {
      const int chunk = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
      const int sent = socket().sendBytes(data, chunk);
      if (sent <= 0) return false;
      data += sent;
      size -= static_cast<std::size_t>(sent);
    }
    return true;
  }

  // Appends what arrives to in_. False at the end of the stream or after the socket's
  // receive timeout.
  bool receive() {
    int n = 0;
    try {
      n = socket().receiveBytes(chunk_.data(), static_cast<int>(chunk_.size()));
    } catch (const Poco::TimeoutException&) {
      return false;
    }
    if (n <= 0) return false;
    in_.append(chunk_.data(), static_cast<std::size_t>(n));
    return true;
  }

  // receive(), within the request's time.
  bool receiveInTime() { return std::chrono::steady_clock::now() < deadline_ && receive(); }

  // One line per request that ran; " sent=no" when its answer could not be sent.
  void log(const HttpRequest& request, const HttpResponse& response, const RequestInfo& info,
           bool sent) {
    if (!shared_.options.log_requests) return;
    Poco::Logger::get("tramite.http")
        .information(
            "method=%s path=%s status=%d duration_ms=%.2f actor=%s request_id=%s remote=%s%s",
            logSafe(request.method), logSafe(request.path), response.status,
            secondsSince(started_) * 1000.0, info.actor.empty() ? "-" : logSafe(info.actor),
            logSafe(request.request_id), remote_, std::string(sent ? "" : " sent=no"));
  }

  // What a client sent, fit for one log line: control characters, spaces, backslashes and
  // bytes outside ASCII as \xNN, so nothing a client sends forges or splits a line.
  static std::string logSafe(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const unsigned char c : text) {
      if (c <= 0x20 || c >= 0x7f || c == '\\') {
        static const char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  }

  Shared& shared_;
  std::string in_;   // received and not yet consumed (the start of a pipelined request)
  std::string out_;  // the response being sent
  std::array<char, 16 * 1024> chunk_;  // what one read takes from the socket
  std::string remote_;
  SteadyTime started_;
  SteadyTime deadline_;
};

class ConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit ConnectionFactory(Shared& shared) : shared_(shared) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& s) override {
    return new Connection(s, shared_);
  }

 private:
  Shared& shared_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(RequestHandler handler, ServerOptions options, RejectionCounter rejected) {
    shared_.handle = std::move(handler);
    shared_.rejected = std::move(rejected);
    shared_.options = std::move(options);
  }

  Status start() {
    const ServerOptions& options = shared_.options;
    try {
      Poco::Net::SocketAddress address(options.host, static_cast<Poco::UInt16>(options.port));
      const bool tls = !options.tls_certificate.empty() || !options.tls_private_key.empty();
      if (tls) {
        if (options.tls_certificate.empty() || options.tls_private_key.empty()) {
          return Status(ErrorCode::kInvalidArgument,
                        "TLS needs both a certificate and a private key");
        }
        static std::once_flag ssl_once;
        std::call_once(ssl_once, [] { Poco::Net::initializeSSL(); });
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options.tls_private_key,
                                   options.tls_certificate, "", Poco::Net::Context::VERIFY_NONE);
        context->disableProtocols(
            Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
            Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
        socket_ = std::make_unique<Poco::Net::SecureServerSocket>(address, 128, context);
      } else {
        socket_ = std::make_unique<Poco::Net::ServerSocket>(address, 128);
      }
      scheme_ = tls ? "https" : "http";
      auto* params = new Poco::Net::TCPServerParams;
      params->setMaxThreads(options.max_threads);
      params->setMaxQueued(options.max_queued);
      pool_ = std::make_unique<Poco::ThreadPool>(2, options.max_threads);
      server_ = std::make_unique<Poco::Net::TCPServer>(new ConnectionFactory(shared_), *pool_,
                                                       *socket_, params);
      server_->start();
      return Status::ok();
    } catch (const Poco::Exception& e) {
      socket_.reset();
      return Status(ErrorCode::kUnavailable, "cannot serve on " + options.host + ":" +
                                                 std::to_string(options.port) + ": " +
                                                 e.displayText());
    }
  }

  void stop(std::int64_t drain_ms) {
    if (!server_) return;
    server_->stop();             // no new connections
    shared_.connections.stop();  // idle ones close; those in flight finish their request
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
    while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
      Poco::Thread::sleep(20);
    }
    shared_.connections.abort();
    pool_->joinAll();
    server_.reset();
  }

  int port() const { return socket_ ? socket_->address().port() : 0; }
  std::string url() const {
    return scheme_ + "://" + shared_.options.host + ":" + std::to_string(port());
  }

 private:
  Shared shared_;
  std::string scheme_ = "http";
  std::unique_ptr<Poco::Net::ServerSocket> socket_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
};

Server::Server(Api& api, ServerOptions options)
    : Server([&api](const HttpRequest& r, RequestInfo* info) { return api.handle(r, info); },
             std::move(options),
             [&api](const std::string& route, int status, double seconds) {
               api.countRequest(route, status, seconds);
             }) {}

Server::Server(RequestHandler handler, ServerOptions options, RejectionCounter rejected)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options), std::move(rejected))) {}

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
