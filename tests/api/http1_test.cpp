// HTTP/1.1 on the wire without sockets: request heads, their limits and the strictness that
// keeps two parties from disagreeing about where a request ends, chunked bodies however they
// are split, and response heads.
#include "http1.h"

#include <gtest/gtest.h>

namespace tramite::api::http1 {
namespace {

// The head's length, found by feeding bytes to a scanner n at a time.
Result<std::size_t> scanInSteps(std::string_view bytes, std::size_t n, const Limits& limits) {
  HeadScanner scanner(limits);
  for (std::size_t have = std::min(n, bytes.size());; have = std::min(have + n, bytes.size())) {
    auto found = scanner.scan(bytes.substr(0, have));
    if (!found || *found > 0 || have == bytes.size()) return found;
  }
}

Result<RequestHead> parse(const std::string& head) {
  return parseHead(head, Limits{});
}

TEST(Http1, ParsesARequestHead) {
  const std::string head =
      "POST /api/v1/tasks/t-1/complete?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: "
      "application/json\r\nAUTHORIZATION:  Bearer abc \r\nContent-Length: 24\r\n\r\n";
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, head.size()}) {
    auto length = scanInSteps(head + "{\"decision\": ...", step, Limits{});
    ASSERT_TRUE(length) << length.status().toString();
    EXPECT_EQ(*length, head.size()) << "step " << step;
  }
  auto parsed = parse(head);
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->method, "POST");
  EXPECT_EQ(parsed->target, "/api/v1/tasks/t-1/complete?x=1");
  EXPECT_EQ(parsed->minor_version, 1);
  EXPECT_EQ(parsed->headers.at("authorization"), "Bearer abc");
  EXPECT_EQ(parsed->headers.at("content-type"), "application/json");
  EXPECT_EQ(parsed->content_length, 24u);
  EXPECT_FALSE(parsed->chunked);
  EXPECT_TRUE(parsed->keep_alive);
  EXPECT_FALSE(parsed->expect_continue);
}

TEST(Http1, KeepAliveFollowsTheVersionAndConnectionField) {
  EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n")->keep_alive);
  EXPECT_FALSE(
      parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, Close\r\n\r\n")->keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n")->keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")->keep_alive);
  auto expecting = parse("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n");
  EXPECT_TRUE(expecting->expect_continue);
}

TEST(Http1, RepeatedFieldsAreJoinedButLengthsMustAgree) {
  auto joined = parse("GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\naccept: b\r\n\r\n");
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->headers.at("accept"), "a, b");
  auto same = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->content_length, 3u);
  EXPECT_FALSE(
      parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"));
}

TEST(Http1, RefusesAmbiguousOrMalformedHeads) {
  const char* const bad[] = {
      "GET / HTTP/1.1\nHost: h\r\n\r\n",                          // bare LF
      "GET / HTTP/1.1\r\nHost : h\r\n\r\n",                       // space before colon
      "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n",  // obs-fold
      "GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n",            //
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"       //
      "Transfer-Encoding: chunked\r\n\r\n",                       // both lengths
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",  // a coding
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",                   // chunked in 1.0
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",                //
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",              //
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n",  //
      "GET / HTTP/1.1\r\n\r\n",                                                      // no Host
      "GET / HTTP/2.0\r\nHost: h\r\n\r\n",                                           // version
      "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",                                     // request line
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",                                          //
      "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",                                           // method
      "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n",            // control in target
      "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01z\r\n\r\n",  // control in value
  };
  for (const char* head : bad) {
    auto parsed = parse(head);
    EXPECT_FALSE(parsed) << head;
    if (!parsed) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(Http1, HeadLimitsHoldBeforeTheHeadIsComplete) {
  Limits limits;
  limits.max_line_bytes = 64;
  limits.max_fields = 3;
  // A long line is refused as soon as it is longer than the limit, blank line or not.
  const std::string long_line = "GET / HTTP/1.1\r\nX-Pad: " + std::string(100, 'a');
  EXPECT_FALSE(scanInSteps(long_line, 5, limits));
  std::string fields = "GET / HTTP/1.1\r\nHost: h\r\n";
  EXPECT_EQ(*scanInSteps(fields + "\r\n", 1, limits), fields.size() + 2);
  for (int i = 0; i < 3; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_FALSE(scanInSteps(fields, 1, limits));
  EXPECT_FALSE(parseHead(fields + "\r\n", limits));
  // Blank lines before the request line are skipped.
  const std::string leading = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(*scanInSteps(leading, 1, Limits{}), leading.size());
  EXPECT_EQ(parse(leading)->method, "GET");
}

TEST(Http1, DecodesChunkedBodiesHoweverTheyAreSplit) {
  const std::string wire =
      "4\r\nWiki\r\n5;name=value\r\npedia\r\nE \r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: t\r\n\r\n";
  const std::string next = "GET / HTTP/1.1\r\n";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    ChunkedDecoder decoder;
    std::string body;
    const std::string bytes = wire + next;
    std::size_t at = 0;
    while (!decoder.done() && at < bytes.size()) {
      const std::size_t n = std::min(step, bytes.size() - at);
      auto used = decoder.feed(std::string_view(bytes).substr(at, n), &body);
      ASSERT_TRUE(used) << used.status().toString();
      at += *used;
      if (!decoder.done()) {
        ASSERT_EQ(*used, n);
      }
    }
    ASSERT_TRUE(decoder.done()) << "step " << step;
    EXPECT_EQ(body, "Wikipedia in\r\n\r\nchunks.") << "step " << step;
    EXPECT_EQ(at, wire.size()) << "the next request is left alone";
    EXPECT_EQ(decoder.decoded(), body.size());
  }
  // Dropping the data still follows the chunks.
  ChunkedDecoder dropping;
  EXPECT_EQ(*dropping.feed(wire, nullptr), wire.size());
  EXPECT_TRUE(dropping.done());
  EXPECT_EQ(dropping.decoded(), 23u);
}

TEST(Http1, RefusesMalformedChunks) {
  const char* const bad[] = {
      "x\r\n",                 // not hexadecimal
      "\r\n",                  // no size
      "4\r\nWikiX\r\n",        // data longer than its size
      "4\nWiki\r\n",           // bare LF
      "1000000000000000\r\n",  // a size beyond any body
  };
  for (const char* wire : bad) {
    ChunkedDecoder decoder;
    std::string body;
    EXPECT_FALSE(decoder.feed(wire, &body)) << wire;
  }
  ChunkedDecoder endless;
  std::string body;
  EXPECT_FALSE(endless.feed("1" + std::string(2000, '0'), &body)) << "a size line without end";
}

TEST(Http1, WritesResponseHeads) {
  const std::vector<std::pair<std::string, std::string>> extra = {
      {"X-Request-Id", "r1"}, {"Content-Disposition", "attachment\r\nSet-Cookie: a=b"}};
  ResponseHead head;
  head.status = 201;
  head.content_type = "application/json";
  head.headers = &extra;
  head.body_length = 42;
  head.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  std::string out;
  appendResponseHead(out, head);
  EXPECT_EQ(out,
            "HTTP/1.1 201 Created\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: application/json\r\nContent-Length: 42\r\nX-Request-Id: r1\r\n"
            "Content-Disposition: attachment  Set-Cookie: a=b\r\n\r\n");
  head.status = 204;
  head.headers = nullptr;
  head.keep_alive = false;
  head.date = {};
  out.clear();
  appendResponseHead(out, head);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  head.status = 200;
  head.minor_version = 0;
  head.keep_alive = true;
  head.body_length = 0;
  out.clear();
  appendResponseHead(out, head);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n"
            "Connection: keep-alive\r\n\r\n");
  EXPECT_EQ(httpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace tramite::api::http1
