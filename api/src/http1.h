// HTTP/1.1 on the wire (RFC 9112), the server's side: finding and parsing a request's head,
// decoding a chunked body, writing a response's head. Pure functions and small state
// machines on bytes, tested without sockets; server.cpp moves the bytes.
//
// The parser is strict where leniency lets two parties disagree about where a request ends
// (request smuggling): lines end in CRLF, no whitespace before a field's colon, no folded
// lines, one Content-Length, never both Content-Length and Transfer-Encoding, and no
// transfer coding but chunked.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tramite/status.h"

namespace tramite::api::http1 {

struct Limits {
  std::size_t max_line_bytes = 8 * 1024;  // the request line, or one header field line
  std::size_t max_fields = 100;           // header fields of a request
};

struct RequestHead {
  std::string method;
  std::string target;                          // as sent: /path?query (or an absolute URI)
  int minor_version = 1;                       // HTTP/1.minor_version
  std::map<std::string, std::string> headers;  // names in lower case; repeats joined by ", "
  std::optional<std::uint64_t> content_length;
  bool chunked = false;          // Transfer-Encoding: chunked
  bool keep_alive = true;        // the connection may carry another request after this one
  bool expect_continue = false;  // Expect: 100-continue
};

// Finds where a request's head ends as its bytes arrive. Looks at each byte once, however the
// head is split across reads.
class HeadScanner {
 public:
  explicit HeadScanner(const Limits& limits) : limits_(limits) {}

  // buf holds the bytes received so far of this request, from its first; it only grows
  // between calls. Returns the head's length through its blank line, or 0 while it is
  // incomplete. Errors (kInvalidArgument): a line longer, or more lines, than the limits allow.
  Result<std::size_t> scan(std::string_view buf);

 private:
  const Limits& limits_;
  std::size_t pos_ = 0;         // bytes of buf already looked at
  std::size_t line_start_ = 0;  // where the current line starts
  std::size_t lines_ = 0;       // lines ended so far (blank lines before the request too)
  bool started_ = false;        // the request line has begun
};

// Parses a whole head, as measured by HeadScanner (CRLF line ends, the blank line last).
// Errors (kInvalidArgument): what is wrong, for the 400 answer.
Result<RequestHead> parseHead(std::string_view head, const Limits& limits);

// Decodes a chunked body as its bytes arrive (chunk sizes, data, extensions and trailers,
// which are dropped).
class ChunkedDecoder {
 public:
  // Consumes what it can of in, appending the data to *body (dropping it when body is null).
  // Returns the bytes of in consumed: all of them unless the body ended within in.
  // Errors (kInvalidArgument): a malformed chunk size, line end or trailer.
  Result<std::size_t> feed(std::string_view in, std::string* body);
  bool done() const { return state_ == State::kDone; }
  std::uint64_t decoded() const { return decoded_; }  // data bytes so far

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone };
  State state_ = State::kSize;
  std::string line_;  // the part of a size or trailer line received so far
  std::uint64_t remaining_ = 0;
  std::uint64_t decoded_ = 0;
  std::size_t trailer_bytes_ = 0;
};

// The reason phrase of a status code ("" for one it does not know).
std::string_view reasonPhrase(int status);

// An IMF-fixdate, as in a Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string httpDate(std::time_t t);

struct ResponseHead {
  int status = 200;
  int minor_version = 1;  // the request's
  std::string_view content_type;
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;  // extra fields
  std::size_t body_length = 0;
  bool keep_alive = true;
  std::string_view date;  // an httpDate
};

// Appends the status line and header fields of a response, through the blank line. A 1xx,
// 204 or 304 response gets neither Content-Type nor Content-Length. CR and LF in header
// values become spaces, so a value cannot add fields of its own.
void appendResponseHead(std::string& out, const ResponseHead& head);

}  // namespace tramite::api::http1
