// The API tests check each answer they receive against the served OpenAPI document
// (tests/support/openapi_check.h): a failed check is a failure of the test that received it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "openapi_check.h"
#include "tramite/api/api.h"

namespace tramite::api {

inline void expectAsDocumented(const std::string& method, const std::string& target, int status,
                               const std::string& content_type, const std::string& body) {
  static const auto check = testing::OpenApiCheck::parse(Api::openApiDocument());
  ASSERT_TRUE(check) << check.status().toString();
  for (const std::string& problem : check->problems(method, target, status, content_type, body)) {
    ADD_FAILURE() << "not as documented: " << problem << "\n  body: " << body.substr(0, 2000);
  }
}

}  // namespace tramite::api
