#include "http1.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tramite/text.h"

namespace tramite::api::http1 {

namespace {

Status bad(const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "malformed HTTP request: " + what);
}

// RFC 9110's tchar: the characters of methods and field names.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTokenChar(c)) return false;
  }
  return true;
}

// Field values: visible characters, spaces, tabs and obs-text; no other control character.
bool isFieldValue(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated list (a Connection field) holds token, ignoring case.
bool listHas(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trimmed(list.substr(0, comma));
    if (item.size() == token.size() && asciiLower(std::string(item)) == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::uint64_t> decimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;  // 18 digits cannot overflow
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status parseRequestLine(std::string_view line, RequestHead& head) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return bad("the request line is not 'METHOD target HTTP/1.x'");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method)) return bad("the method is not a token");
  if (target.empty()) return bad("no request target");
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad("a control character in the request target");
  }
  if (version == "HTTP/1.1") {
    head.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    head.minor_version = 0;
  } else {
    return bad("HTTP version '" + std::string(version) + "' is not supported (1.0 and 1.1 are)");
  }
  head.method = std::string(method);
  head.target = std::string(target);
  return Status::ok();
}

Status addField(std::string_view line, RequestHead& head) {
  if (line.front() == ' ' || line.front() == '\t') return bad("a folded header line");
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bad("a header line without a colon");
  const std::string_view name = line.substr(0, colon);
  if (!isToken(name)) return bad("header field name '" + std::string(name) + "' is not a token");
  const std::string_view value = trimmed(line.substr(colon + 1));
  if (!isFieldValue(value)) return bad("a control character in header field " + std::string(name));
  auto [it, fresh] = head.headers.try_emplace(asciiLower(std::string(name)), value);
  if (!fresh) {
    if (it->first == "content-length" && it->second != value) {
      return bad("two different Content-Length fields");
    }
    if (it->first != "content-length") (it->second += ", ") += value;
  }
  return Status::ok();
}

// What the fields say about the body and the connection.
Status interpretFields(RequestHead& head) {
  auto field = [&](const char* name) -> const std::string* {
    auto it = head.headers.find(name);
    return it == head.headers.end() ? nullptr : &it->second;
  };
  const std::string* length = field("content-length");
  const std::string* coding = field("transfer-encoding");
  if (length && coding) return bad("both Content-Length and Transfer-Encoding");
  if (length) {
    head.content_length = decimal(*length);
    if (!head.content_length) return bad("Content-Length '" + *length + "' is not a length");
  }
  if (coding) {
    if (head.minor_version == 0) return bad("Transfer-Encoding in an HTTP/1.0 request");
    if (asciiLower(*coding) != "chunked") {
      return bad("transfer coding '" + *coding + "' is not supported (chunked is)");
    }
    head.chunked = true;
  }
  if (head.minor_version == 1 && !field("host")) return bad("an HTTP/1.1 request without Host");
  const std::string* connection = field("connection");
  head.keep_alive = head.minor_version == 1 ? !(connection && listHas(*connection, "close"))
                                            : connection && listHas(*connection, "keep-alive");
  const std::string* expect = field("expect");
  head.expect_continue = expect && asciiLower(*expect) == "100-continue";
  return Status::ok();
}

}  // namespace

Result<std::size_t> HeadScanner::scan(std::string_view buf) {
  const std::size_t max_line = limits_.max_line_bytes + 2;  // with its CRLF
  while (pos_ < buf.size()) {
    const void* found = std::memchr(buf.data() + pos_, '\n', buf.size() - pos_);
    if (!found) break;
    const auto end = static_cast<std::size_t>(static_cast<const char*>(found) - buf.data());
    const std::size_t length = end + 1 - line_start_;
    if (length > max_line) return bad("a header line longer than the limit");
    const bool blank = length == 1 || (length == 2 && buf[line_start_] == '\r');
    pos_ = line_start_ = end + 1;
    if (blank && started_) return end + 1;
    // The request line and the fields (and blank lines before the request line, which are
    // skipped: RFC 9112 2.2).
    if (++lines_ > limits_.max_fields + 1) return bad("more header fields than the limit");
    started_ = started_ || !blank;
  }
  pos_ = buf.size();
  if (pos_ - line_start_ > max_line) return bad("a header line longer than the limit");
  return std::size_t{0};
}

Result<RequestHead> parseHead(std::string_view head, const Limits& limits) {
  RequestHead out;
  bool request_line = true;
  std::size_t fields = 0;
  while (!head.empty()) {
    const std::size_t lf = head.find('\n');
    if (lf == std::string_view::npos || lf == 0 || head[lf - 1] != '\r') {
      return bad("a line that does not end in CRLF");
    }
    const std::string_view line = head.substr(0, lf - 1);
    head.remove_prefix(lf + 1);
    if (line.size() > limits.max_line_bytes) return bad("a header line longer than the limit");
    if (line.empty()) {
      if (request_line) continue;  // blank lines before the request line
      if (!head.empty()) return bad("bytes after the head's blank line");
      if (Status st = interpretFields(out); !st) return st;
      return out;
    }
    if (request_line) {
      if (Status st = parseRequestLine(line, out); !st) return st;
      request_line = false;
      continue;
    }
    if (++fields > limits.max_fields) return bad("more header fields than the limit");
    if (Status st = addField(line, out); !st) return st;
  }
  return bad("the head ends without a blank line");
}

Result<std::size_t> ChunkedDecoder::feed(std::string_view in, std::string* body) {
  constexpr std::size_t kMaxLine = 1024;         // a chunk size with its extensions
  constexpr std::size_t kMaxTrailer = 8 * 1024;  // all trailer fields
  std::size_t used = 0;
  // Appends to line_ up to the next LF; true once the line is whole (without its CRLF).
  auto takeLine = [&](std::size_t limit) -> Result<bool> {
    const std::size_t lf = in.find('\n', used);
    const std::size_t end = lf == std::string_view::npos ? in.size() : lf + 1;
    line_.append(in.substr(used, end - used));
    used = end;
    if (line_.size() > limit) return bad("a chunk line longer than the limit");
    if (lf == std::string_view::npos) return false;
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
      return bad("a chunk line that does not end in CRLF");
    }
    line_.resize(line_.size() - 2);
    return true;
  };
  while (used < in.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kSize: {
        auto whole = takeLine(kMaxLine);
        if (!whole) return whole.status();
        if (!*whole) break;
        const std::string_view size = trimmed(std::string_view(line_).substr(0, line_.find(';')));
        std::uint64_t n = 0;
        if (size.empty() || size.size() > 15) return bad("a chunk size that is not a size");
        for (char c : size) {
          const int d = hexDigit(c);
          if (d < 0) return bad("a chunk size that is not hexadecimal");
          n = n * 16 + static_cast<std::uint64_t>(d);
        }
        line_.clear();
        remaining_ = n;
        state_ = n == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(in.size() - used)));
        if (body) body->append(in.substr(used, n));
        used += n;
        remaining_ -= n;
        decoded_ += n;
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        auto whole = takeLine(2);
        if (!whole) return whole.status();
        if (!*whole) break;
        if (!line_.empty()) return bad("chunk data longer than its size");
        state_ = State::kSize;
        break;
      }
      case State::kTrailer: {
        auto whole = takeLine(kMaxTrailer - trailer_bytes_);
        if (!whole) return whole.status();
        if (!*whole) break;
        trailer_bytes_ += line_.size() + 2;
        if (line_.empty()) state_ = State::kDone;
        line_.clear();
        break;
      }
      case State::kDone: break;
    }
  }
  return used;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string httpDate(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char out[32];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return out;
}

void appendResponseHead(std::string& out, const ResponseHead& head) {
  auto field = [&](std::string_view name, std::string_view value) {
    out.append(name).append(": ");
    const std::size_t at = out.size();
    out.append(value);
    for (std::size_t i = at; i < out.size(); ++i) {
      if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
    }
    out.append("\r\n");
  };
  out.append("HTTP/1.1 ").append(std::to_string(head.status)).append(" ");
  out.append(reasonPhrase(head.status)).append("\r\n");
  if (!head.date.empty()) field("Date", head.date);
  const bool bodyless = head.status < 200 || head.status == 204 || head.status == 304;
  if (!bodyless) {
    if (!head.content_type.empty()) field("Content-Type", head.content_type);
    field("Content-Length", std::to_string(head.body_length));
  }
  if (head.headers) {
    for (const auto& [name, value] : *head.headers) field(name, value);
  }
  if (!head.keep_alive) {
    field("Connection", "close");
  } else if (head.minor_version == 0) {
    field("Connection", "keep-alive");
  }
  out.append("\r\n");
}

}  // namespace tramite::api::http1
