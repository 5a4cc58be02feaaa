#include "tramite/status.h"

namespace tramite {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kInvalidDocument: return "invalid_document";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kFailedPrecondition: return "failed_precondition";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kResourceExhausted: return "resource_exhausted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kUnsupportedMedia: return "unsupported_media_type";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string out(errorCodeName(code()));
  out += ": ";
  out += message();
  return out;
}

}  // namespace tramite
