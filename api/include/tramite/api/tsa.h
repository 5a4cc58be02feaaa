// The RFC 3161 transport (section 3.4, HTTP): a TimeStampReq posted as
// application/timestamp-query, the TimeStampResp read back as application/timestamp-reply.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tramite/status.h"

namespace tramite::api {

// A function for EngineOptions::timestamp_authority that posts to url (http or https).
// Thread-safe. The function's errors: kUnavailable (no connection, timeout, a non-2xx answer
// or another content type); kInvalidArgument (url is not http(s)).
std::function<Result<std::string>(const std::string& query)> timestampAuthority(
    std::string url, std::int64_t timeout_ms = 10'000);

// Stamps any bytes through tsa (a function as above): a query for their SHA-256 with a fresh
// nonce, the reply checked (granted, this imprint, this nonce), the token (DER) returned. For
// audit::checkpointLedger, which stamps a checkpoint's signed text. Thread-safe when tsa is.
// Errors: tsa's; kFailedPrecondition ("timestamp: ...") for a refusal or a reply that does
// not answer the query.
std::function<Result<std::string>(const std::string& data)> timestampStamp(
    std::function<Result<std::string>(const std::string& query)> tsa);

}  // namespace tramite::api
