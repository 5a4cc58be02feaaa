#include "tramite/api/server.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "http1.h"

namespace tramite::api {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

constexpr std::int64_t kKeepAliveMs = 10'000;   // how long an idle connection is kept
constexpr std::int64_t kLingerMs = 1'000;       // reading what follows a refusal, before closing
constexpr std::size_t kHeadRead = 4 * 1024;     // what one read asks for while a head arrives
constexpr std::size_t kBodyRead = 64 * 1024;    // and while a body does
constexpr std::size_t kCopiedBody = 64 * 1024;  // larger bodies are sent apart from the head
constexpr std::size_t kKeptBuffer = 64 * 1024;  // a larger read buffer is freed between requests

double secondsSince(SteadyTime since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

SteadyTime after(std::int64_t ms) {
  return SteadyClock::now() + std::chrono::milliseconds(ms);
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

// Appends the status line and header fields of response (its extra headers, the length of its
// body) for a request of HTTP/1.minor_version.
void appendHead(std::string& out, const HttpResponse& response, int minor_version,
                bool keep_alive) {
  http1::ResponseHead head;
  head.status = response.status;
  head.minor_version = minor_version;
  head.content_type = response.content_type;
  head.headers = &response.headers;
  head.body_length = response.body.size();
  head.keep_alive = keep_alive;
  head.date = dateNow();
  http1::appendResponseHead(out, head);
}

// What a client sent, fit for one log line: control characters, spaces, backslashes and
// bytes outside ASCII as \xNN, so nothing a client sends forges or splits a line.
std::string logSafe(const std::string& text) {
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

// The handler's threads: a fixed number of them take whole requests from one queue. Thread
// safe. post() refuses a job when every thread is busy and max_queued jobs already wait;
// stop() lets the running jobs finish, drops those not started and joins the threads.
class Workers {
 public:
  Workers(int threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { work(); });
  }
  ~Workers() { stop(); }

  bool post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_ || pending_ >= threads_.size() + max_queued_) return false;
      ++pending_;
      queue_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      queue_.clear();
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
        if (stopped_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
      std::lock_guard<std::mutex> lock(mu_);
      --pending_;
    }
  }

  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  std::size_t pending_ = 0;  // jobs queued or running
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

// What every connection can do when the server stops; each runs on the connection's strand.
class Stoppable {
 public:
  virtual ~Stoppable() = default;
  virtual void closeIfIdle() = 0;  // when it waits for a request that has not begun
  virtual void abort() = 0;        // at once, whatever it is doing
};

// The state the connections share: the handler, the limits, the workers and the open
// connections (counted per client address). Thread safe.
class Hub {
 public:
  Hub(RequestHandler handle, RejectionCounter rejected, ServerOptions options)
      : handle_(std::move(handle)), rejected_(std::move(rejected)), options_(std::move(options)) {}

  const ServerOptions& options() const { return options_; }
  const http1::Limits& limits() const { return limits_; }
  Workers& workers() { return *workers_; }
  void startWorkers() {
    workers_.emplace(options_.max_threads, static_cast<std::size_t>(options_.max_queued));
  }
  void stopWorkers() {
    if (workers_) workers_->stop();
  }

  HttpResponse handle(const HttpRequest& request, RequestInfo* info) const {
    try {
      return handle_(request, info);
    } catch (const std::exception& e) {
      return errorResponse(Status(ErrorCode::kInternal, std::string("unhandled: ") + e.what()));
    }
  }
  void countRejected(int status, double seconds) const {
    if (rejected_) rejected_("rejected", status, seconds);
  }

  // Whether one more connection from client may open: the refusal to answer it with when not.
  std::optional<Status> admit(const std::string& client) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(ErrorCode::kUnavailable, "the server is stopping");
    if (open_count_ >= static_cast<std::size_t>(options_.max_connections)) {
      return Status(ErrorCode::kUnavailable, "the server has all the connections it takes");
    }
    int& from_client = per_client_[client];
    if (from_client >= options_.max_connections_per_client) {
      if (from_client == 0) per_client_.erase(client);
      return Status(ErrorCode::kRateLimited,
                    "too many connections from " + client + " (" +
                        std::to_string(options_.max_connections_per_client) + " at most)");
    }
    ++from_client;
    ++open_count_;
    return std::nullopt;
  }
  void add(const std::shared_ptr<Stoppable>& connection) {
    std::lock_guard<std::mutex> lock(mu_);
    open_[connection.get()] = connection;
  }
  void remove(Stoppable* connection, const std::string& client) {
    std::lock_guard<std::mutex> lock(mu_);
    open_.erase(connection);
    --open_count_;
    auto it = per_client_.find(client);
    if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
  }
  std::size_t openCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return open_count_;
  }

  bool stopping() const { return stopping_; }
  // No connection takes another request; those waiting for one close now.
  void stop() {
    stopping_ = true;
    forEach([](Stoppable& c) { c.closeIfIdle(); });
  }
  void abort() {
    forEach([](Stoppable& c) { c.abort(); });
  }

 private:
  template <typename Fn>
  void forEach(Fn fn) {
    std::vector<std::shared_ptr<Stoppable>> alive;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [raw, weak] : open_) {
        if (auto c = weak.lock()) alive.push_back(std::move(c));
      }
    }
    for (auto& c : alive) fn(*c);
  }

  const RequestHandler handle_;
  const RejectionCounter rejected_;
  const ServerOptions options_;
  const http1::Limits limits_;
  std::optional<Workers> workers_;
  std::mutex mu_;
  std::unordered_map<Stoppable*, std::weak_ptr<Stoppable>> open_;
  std::unordered_map<std::string, int> per_client_;
  std::size_t open_count_ = 0;  // admitted, not yet removed
  std::atomic<bool> stopping_{false};
};

// A process this one starts (a shell, a tool) must not inherit the server's sockets: a
// connection the server closes would stay open in the child, unanswered, until it exits.
void keepFromChildren(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

tcp::socket& lowest(tcp::socket& s) {
  return s;
}
tcp::socket& lowest(asio::ssl::stream<tcp::socket>& s) {
  return s.next_layer();
}

// One connection: HTTP/1.1 requests read and answered in turn (keep-alive, pipelined ones
// too), until the client closes, a deadline passes, a request cannot be read, or the server
// stops. Every member runs on the connection's strand, except run(), which a worker calls
// while the connection waits for it and touches only the request. Stream is a plain or a
// TLS socket.
template <typename Stream>
class Connection final : public Stoppable, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <typename... StreamArgs>
  Connection(Hub& hub, tcp::endpoint remote, std::string client, StreamArgs&&... stream_args)
      : hub_(hub),
        stream_(std::forward<StreamArgs>(stream_args)...),
        timer_(stream_.get_executor()),
        remote_(std::move(remote)),
        client_(std::move(client)) {}
  ~Connection() override { hub_.remove(this, client_); }

  void start() {
    error_code ec;
    lowest(stream_).set_option(tcp::no_delay(true), ec);
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      nextRequest();
    } else {
      phase_ = Phase::kIdle;  // nothing of a request yet: stopping closes it
      setDeadline(after(headTimeoutMs()));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const error_code& error) {
                                if (self->phase_ == Phase::kClosed) return;
                                if (error) return self->close();
                                self->nextRequest();
                              });
    }
  }

  void closeIfIdle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ == Phase::kIdle) self->close();
    });
  }
  void abort() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

 private:
  enum class Phase { kIdle, kHead, kBody, kHandling, kSending, kClosing, kClosed };
  using Step = void (Connection::*)();

  std::int64_t headTimeoutMs() const {
    return std::min(hub_.options().head_timeout_ms, hub_.options().request_timeout_ms);
  }

  // Waits for the next request, or takes one already received (pipelined).
  void nextRequest() {
    if (hub_.stopping()) return close();
    if (in_.empty()) {
      if (in_.capacity() > kKeptBuffer) std::string().swap(in_);  // an upload's buffer
      phase_ = Phase::kIdle;
      setDeadline(after(std::min(kKeepAliveMs, hub_.options().request_timeout_ms)));
      return read(&Connection::beginRequest);
    }
    beginRequest();
  }

  void beginRequest() {
    phase_ = Phase::kHead;
    started_ = SteadyClock::now();
    setDeadline(after(headTimeoutMs()));
    scanner_.emplace(hub_.limits());
    readHead();
  }

  void readHead() {
    auto scanned = scanner_->scan(in_);
    if (!scanned) return refuse(scanned.status(), 1);
    if (*scanned == 0) return read(&Connection::readHead);
    const std::size_t head_length = *scanned;
    auto head = http1::parseHead(std::string_view(in_).substr(0, head_length), hub_.limits());
    if (!head) return refuse(head.status(), 1);
    in_.erase(0, head_length);
    head_ = std::move(*head);
    request_ = HttpRequest();
    if (Status st = prepare(*head_, request_); !st) return refuse(st, head_->minor_version);
    beginBody();
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

  // The body, by Content-Length or chunked, within the request's time. A body over the limit
  // is read and dropped (up to 16 times the limit) so the client sees the 413 rather than a
  // reset connection.
  void beginBody() {
    phase_ = Phase::kBody;
    setDeadline(started_ + std::chrono::milliseconds(hub_.options().request_timeout_ms));
    const http1::RequestHead& head = *head_;
    if (head.chunked) {
      decoder_ = http1::ChunkedDecoder();
      oversized_ = false;
      return head.expect_continue ? sendContinue(&Connection::readChunked) : readChunked();
    }
    const std::uint64_t length = head.content_length.value_or(0);
    if (length > hub_.options().max_body_bytes) {
      if (head.expect_continue) return refuse(tooLarge(), head.minor_version);  // nothing sent
      to_drop_ = length;
      dropped_ = 0;
      return dropBody();
    }
    if (head.expect_continue && length > in_.size()) return sendContinue(&Connection::readBody);
    readBody();
  }

  void readBody() {
    const auto length = static_cast<std::size_t>(head_->content_length.value_or(0));
    if (in_.size() < length) return read(&Connection::readBody);
    if (length == in_.size() && length > kCopiedBody) {
      request_.body.swap(in_);  // a large upload is not copied
      in_.clear();
    } else {
      request_.body.assign(in_, 0, length);
      in_.erase(0, length);
    }
    dispatch();
  }

  void readChunked() {
    const std::uint64_t max = hub_.options().max_body_bytes;
    auto used = decoder_.feed(in_, oversized_ ? nullptr : &request_.body);
    if (!used) return refuse(used.status(), head_->minor_version);
    in_.erase(0, *used);
    if (!oversized_ && decoder_.decoded() > max) {
      request_.body = std::string();
      oversized_ = true;
    }
    if (decoder_.done()) {
      return oversized_ ? refuse(tooLarge(), head_->minor_version) : dispatch();
    }
    if (decoder_.decoded() > 16 * max) return close();
    read(&Connection::readChunked);
  }

  void dropBody() {
    const auto n = std::min<std::uint64_t>(to_drop_ - dropped_, in_.size());
    in_.erase(0, static_cast<std::size_t>(n));
    dropped_ += n;
    if (dropped_ == to_drop_ || dropped_ >= 16 * std::uint64_t{hub_.options().max_body_bytes}) {
      return refuse(tooLarge(), head_->minor_version);
    }
    read(&Connection::dropBody);
  }

  Status tooLarge() const {
    return Status(ErrorCode::kResourceExhausted,
                  "the body exceeds " + std::to_string(hub_.options().max_body_bytes) + " bytes");
  }

  // The whole request goes to a worker; its answer comes back to the strand.
  void dispatch() {
    phase_ = Phase::kHandling;
    setDeadline(SteadyTime::max());  // the handler's time is not the client's
    auto self = this->shared_from_this();
    const bool queued = hub_.workers().post([self] {
      RequestInfo info;
      info.route = "unmatched";
      HttpResponse response = self->hub_.handle(self->request_, &info);
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), info = std::move(info)]() mutable {
                   self->respond(std::move(response), std::move(info));
                 });
    });
    if (!queued) {
      refuse(Status(ErrorCode::kUnavailable, "the server is busy; try again shortly"),
             head_->minor_version);
    }
  }

  void respond(HttpResponse response, RequestInfo info) {
    // The request ran (a write may have committed): it is logged whether or not its answer
    // reaches the client.
    if (phase_ == Phase::kClosed) return log(response, info, false);
    const bool keep_alive = head_->keep_alive && !hub_.stopping();
    response_ = std::move(response);
    info_ = std::move(info);
    send(keep_alive, request_.method == "HEAD", [](Connection& c, bool sent, bool keep) {
      c.log(c.response_, c.info_, sent);
      if (sent && keep) return c.nextRequest();
      c.lingerAndClose();
    });
  }

  // Answers a request the server refuses itself (malformed, too large, busy), then closes.
  void refuse(const Status& status, int minor_version) {
    response_ = errorResponse(status);
    if (phase_ == Phase::kHead) request_ = HttpRequest();  // one that could not be read
    if (!head_) head_.emplace();
    head_->minor_version = minor_version;
    if (request_.request_id.empty()) request_.request_id = requestIdFor("");
    hub_.countRejected(response_.status, secondsSince(started_));
    send(false, false, [](Connection& c, bool, bool) { c.lingerAndClose(); });
  }

  // Writes response_ (head and body), within the request's time, then calls done(*this, sent,
  // keep_alive).
  template <typename Done>
  void send(bool keep_alive, bool head_only, Done done) {
    HttpResponse& response = response_;
    auto byDefault = [&](const char* name, const std::string& value) {
      for (const auto& field : response.headers) {
        if (::strcasecmp(field.first.c_str(), name) == 0) return;
      }
      response.headers.emplace_back(name, value);
    };
    byDefault("X-Request-Id", request_.request_id);
    byDefault("X-Content-Type-Options", "nosniff");
    byDefault("Cache-Control", "no-store");
    out_.clear();
    appendHead(out_, response, head_->minor_version, keep_alive);
    const bool with_body =
        !head_only && response.status >= 200 && response.status != 204 && response.status != 304;
    const bool apart = with_body && response.body.size() > kCopiedBody;
    if (with_body && !apart) out_ += response.body;
    std::array<asio::const_buffer, 2> buffers{
        asio::buffer(out_), apart ? asio::buffer(response.body) : asio::const_buffer()};
    phase_ = Phase::kSending;
    setDeadline(after(hub_.options().request_timeout_ms));
    asio::async_write(
        stream_, buffers,
        [self = this->shared_from_this(), keep_alive, done](const error_code& error, std::size_t) {
          if (self->phase_ == Phase::kClosed) return done(*self, false, false);
          done(*self, !error, keep_alive);
        });
  }

  template <typename Next>
  void sendContinue(Next next) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(
        stream_, asio::buffer(kContinue.data(), kContinue.size()),
        [self = this->shared_from_this(), next](const error_code& error, std::size_t) {
          if (self->phase_ == Phase::kClosed) return;
          if (error) return self->close();
          ((*self).*next)();
        });
  }

  // Appends what arrives to in_, then takes the next step; closes at the end of the stream,
  // on an error, or when the deadline has closed the connection.
  void read(Step next) {
    const std::size_t at = in_.size();
    std::size_t want = kHeadRead;
    if (phase_ == Phase::kBody) {
      const std::uint64_t expected = head_->content_length.value_or(kBodyRead);
      want = static_cast<std::size_t>(
          std::clamp<std::uint64_t>(expected > at ? expected - at : 0, kHeadRead, kBodyRead));
    }
    in_.resize(at + want);
    stream_.async_read_some(
        asio::buffer(&in_[at], want),
        [self = this->shared_from_this(), at, next](const error_code& error, std::size_t n) {
          self->in_.resize(at + n);
          if (self->phase_ == Phase::kClosed) return;
          if (error) return self->close();
          ((*self).*next)();
        });
  }

  // Ends the sending side and reads (and drops) what the client still sends for a moment, so
  // that the answer is not lost to a reset when unread bytes remain.
  void lingerAndClose() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosing;
    error_code ec;
    lowest(stream_).shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    setDeadline(after(kLingerMs));
    dropUntilClosed();
  }
  void dropUntilClosed() {
    in_.clear();
    read(&Connection::dropUntilClosed);
  }

  void close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    error_code ec;
    lowest(stream_).close(ec);
    timer_.cancel();
  }

  // One timer per connection, waiting for the earliest deadline set; a deadline that passes
  // in any phase but handling closes the connection without an answer.
  void setDeadline(SteadyTime t) {
    deadline_ = t;
    if (t == SteadyTime::max()) return;
    if (!timer_waiting_ || t < timer_.expiry()) {
      timer_.expires_at(t);  // an earlier wait is cancelled
      waitForDeadline();
    }
  }
  void waitForDeadline() {
    timer_waiting_ = true;
    timer_.async_wait([self = this->shared_from_this()](const error_code& error) {
      if (error == asio::error::operation_aborted) return;  // superseded or closed
      self->timer_waiting_ = false;
      if (self->phase_ == Phase::kClosed || self->deadline_ == SteadyTime::max()) return;
      if (SteadyClock::now() >= self->deadline_) return self->close();
      self->timer_.expires_at(self->deadline_);
      self->waitForDeadline();
    });
  }

  // One line per request that ran; " sent=no" when its answer could not be sent.
  void log(const HttpResponse& response, const RequestInfo& info, bool sent) const {
    if (!hub_.options().log_requests) return;
    const asio::ip::address address = remote_.address();
    const std::string remote =
        (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
        std::to_string(remote_.port());
    Poco::Logger::get("tramite.http")
        .information(
            "method=%s path=%s status=%d duration_ms=%.2f actor=%s request_id=%s remote=%s%s",
            logSafe(request_.method), logSafe(request_.path), response.status,
            secondsSince(started_) * 1000.0, info.actor.empty() ? "-" : logSafe(info.actor),
            logSafe(request_.request_id), remote, std::string(sent ? "" : " sent=no"));
  }

  Hub& hub_;
  Stream stream_;
  asio::steady_timer timer_;
  const tcp::endpoint remote_;
  const std::string client_;  // the remote address, as counted per client
  Phase phase_ = Phase::kIdle;
  SteadyTime deadline_ = SteadyTime::max();
  bool timer_waiting_ = false;
  SteadyTime started_ = SteadyClock::now();  // of the current request
  std::string in_;   // received and not yet consumed (the start of a pipelined request)
  std::string out_;  // the response head being sent (and a small body)
  std::optional<http1::HeadScanner> scanner_;
  std::optional<http1::RequestHead> head_;
  HttpRequest request_;
  HttpResponse response_;
  RequestInfo info_;
  http1::ChunkedDecoder decoder_;
  bool oversized_ = false;  // a chunked body past the limit, being dropped
  std::uint64_t to_drop_ = 0, dropped_ = 0;
};

}  // namespace

class Server::Impl {
 public:
  Impl(RequestHandler handler, ServerOptions options, RejectionCounter rejected)
      : hub_(std::move(handler), std::move(rejected), std::move(options)) {}
  ~Impl() { stop(10'000); }

  Status start() {
    const ServerOptions& options = hub_.options();
    const bool tls = !options.tls_certificate.empty() || !options.tls_private_key.empty();
    if (tls && (options.tls_certificate.empty() || options.tls_private_key.empty())) {
      return Status(ErrorCode::kInvalidArgument, "TLS needs both a certificate and a private key");
    }
    error_code ec;
    try {
      if (tls) {
        tls_.emplace(asio::ssl::context::tls_server);
        tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
        tls_->use_certificate_chain_file(options.tls_certificate);
        tls_->use_private_key_file(options.tls_private_key, asio::ssl::context::pem);
      }
      tcp::resolver resolver(io_);
      const tcp::endpoint endpoint =
          resolver.resolve(options.host, std::to_string(options.port))->endpoint();
      acceptor_.open(endpoint.protocol());
      keepFromChildren(acceptor_.native_handle());
      acceptor_.set_option(tcp::acceptor::reuse_address(true));
      acceptor_.bind(endpoint);
      acceptor_.listen(1024);
    } catch (const boost::system::system_error& e) {
      tls_.reset();
      acceptor_.close(ec);
      return Status(ErrorCode::kUnavailable, "cannot serve on " + options.host + ":" +
                                                 std::to_string(options.port) + ": " + e.what());
    }
    scheme_ = tls ? "https" : "http";
    port_ = acceptor_.local_endpoint(ec).port();
    hub_.startWorkers();
    accept();
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      io_threads_.emplace_back([this] { io_.run(); });
    }
    running_ = true;
    return Status::ok();
  }

  void stop(std::int64_t drain_ms) {
    if (!running_) return;
    running_ = false;
    asio::post(acceptor_.get_executor(), [this] {
      error_code ec;
      acceptor_.close(ec);  // no new connections
      retry_.cancel();
    });
    hub_.stop();  // idle connections close; those in flight finish their request
    const SteadyTime deadline = after(drain_ms);
    while (hub_.openCount() > 0 && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    hub_.abort();
    hub_.stopWorkers();  // the running handlers finish; the queued ones are dropped
    work_.reset();
    io_.stop();
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
  }

  int port() const { return port_; }
  std::string url() const {
    return scheme_ + "://" + hub_.options().host + ":" + std::to_string(port_);
  }

 private:
  void accept() {
    acceptor_.async_accept(
        asio::make_strand(io_), [this](const error_code& error, tcp::socket socket) {
          if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
          if (error) {  // out of descriptors, say: try again shortly rather than spin
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](const error_code& e) {
              if (!e && acceptor_.is_open()) accept();
            });
            return;
          }
          admit(std::move(socket));
          accept();
        });
  }

  // Serves a new connection, or answers it with a refusal when it is one too many.
  void admit(tcp::socket socket) {
    keepFromChildren(socket.native_handle());
    error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    std::string client = remote.address().to_string();
    if (std::optional<Status> refused = hub_.admit(client)) {
      HttpResponse response = errorResponse(*refused);
      response.headers.emplace_back("Retry-After", "5");
      std::string out;
      appendHead(out, response, 1, /*keep_alive=*/false);
      out += response.body;
      socket.non_blocking(true, ec);
      socket.write_some(asio::buffer(out), ec);  // a best effort: the socket closes regardless
      socket.shutdown(tcp::socket::shutdown_send, ec);
      hub_.countRejected(response.status, 0);
      return;
    }
    std::shared_ptr<Stoppable> connection;
    if (tls_) {
      auto c = std::make_shared<Connection<asio::ssl::stream<tcp::socket>>>(
          hub_, remote, std::move(client), std::move(socket), *tls_);
      connection = c;
      hub_.add(connection);
      c->start();
    } else {
      auto c = std::make_shared<Connection<tcp::socket>>(hub_, remote, std::move(client),
                                                         std::move(socket));
      connection = c;
      hub_.add(connection);
      c->start();
    }
  }

  Hub hub_;  // outlives every connection: the io_context below holds their handlers
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  tcp::acceptor acceptor_{asio::make_strand(io_)};
  asio::steady_timer retry_{acceptor_.get_executor()};
  std::optional<asio::ssl::context> tls_;
  std::vector<std::thread> io_threads_;
  std::string scheme_ = "http";
  int port_ = 0;
  bool running_ = false;
};

Server::Server(Api& api, ServerOptions options)
    : Server([&api](const HttpRequest& r, RequestInfo* info) { return api.handle(r, info); },
             std::move(options),
             [&api](const std::string& route, int status, double seconds) {
               api.countRequest(route, status, seconds);
             }) {}

Server::Server(RequestHandler handler, ServerOptions options, RejectionCounter rejected)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options), std::move(rejected))) {}

Server::~Server() = default;

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
