#include "tramite/json.h"

#include <gtest/gtest.h>

namespace tramite::json {
namespace {

TEST(Json, RoundTripsNestedValues) {
  const std::string text =
      R"({"a":1,"b":[true,false,null],"c":{"d":"x\ny","e":-2.5},"f":"ñandú €"})";
  auto v = parse(text);
  ASSERT_TRUE(v) << v.status().toString();
  EXPECT_EQ(dump(*v), text);
  EXPECT_EQ(v->find("a")->asInt(), 1);
  EXPECT_EQ(v->find("c")->find("e")->asDouble(), -2.5);
}

TEST(Json, KeepsInt64Exactly) {
  auto v = parse("9007199254740993");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->isInt());
  EXPECT_EQ(v->asInt(), 9007199254740993LL);
}

TEST(Json, HugeIntegersBecomeDoublesAndOverflowIsRefused) {
  auto big = parse("123456789012345678901234567890");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->type(), Type::kDouble);
  auto inf = parse("1e999");
  EXPECT_FALSE(inf);
  EXPECT_NE(inf.status().message().find("out of range"), std::string::npos);
}

TEST(Json, RejectsMalformedInputWithAnOffset) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\\x\"", "[1] 2",
                          "{\"a\":1,}", "\"a\tb\""}) {
    auto v = parse(bad);
    ASSERT_FALSE(v) << bad;
    EXPECT_NE(v.status().message().find("byte"), std::string::npos) << bad;
  }
}

TEST(Json, RejectsInvalidUtf8AndLoneSurrogates) {
  EXPECT_FALSE(parse("\"\xff\""));
  EXPECT_FALSE(parse("\"\xc0\xaf\""));      // overlong '/'
  EXPECT_FALSE(parse("\"\xed\xa0\x80\""));  // encoded surrogate
  EXPECT_FALSE(parse(R"("\ud800")"));
  EXPECT_FALSE(parse(R"("\udc00x")"));
  auto pair = parse(R"("\ud83d\ude00")");
  ASSERT_TRUE(pair);
  EXPECT_EQ(pair->asString(), "\xF0\x9F\x98\x80");
}

TEST(Json, LimitsDepthAndSize) {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  auto v = parse(deep);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.status().code(), ErrorCode::kResourceExhausted);
  ParseLimits small;
  small.max_bytes = 4;
  EXPECT_EQ(parse("[1,2,3]", small).status().code(), ErrorCode::kResourceExhausted);
}

TEST(Json, DumpEscapesControlCharactersAndNeverEmitsInvalidUtf8) {
  Value v(std::string("a\x01\"\\\xff"));
  EXPECT_EQ(dump(v), "\"a\\u0001\\\"\\\\\\ufffd\"");
  EXPECT_TRUE(isValidUtf8(dump(v)));
}

TEST(Json, ShortestDoubleRepresentation) {
  EXPECT_EQ(dump(Value(0.1)), "0.1");
  EXPECT_EQ(dump(Value(1.5)), "1.5");
  EXPECT_EQ(dump(Value(1e21)), "1e+21");
}

TEST(Json, ObjectSetReplacesAndNumbersCompareAcrossKinds) {
  Value o;
  o.set("k", 1);
  o.set("k", 2);
  EXPECT_EQ(o.asObject().size(), 1u);
  EXPECT_EQ(*o.find("k"), Value(2.0));
}

TEST(Json, ObjectOfKeepsOrderAndMovesValuesIn) {
  Array items{Value("a"), Value("b")};
  const std::string kept = "k";
  Value o = objectOf("items", std::move(items), "kept", kept, "n", 3, "flag", true);
  EXPECT_EQ(dump(o), R"({"items":["a","b"],"kept":"k","n":3,"flag":true})");
  EXPECT_TRUE(items.empty());  // moved, not copied
  EXPECT_EQ(kept, "k");        // an lvalue is copied
}

}  // namespace
}  // namespace tramite::json
