// Outgoing HTTP(S) sessions, shared by the BasicHTTP client and the TSA client. Not a public
// header.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/URI.h>

#include <cstdint>
#include <memory>

namespace tramite::api {

// A session to uri's host: HTTPS (the peer checked against the system's CAs and its name)
// or plain HTTP, with the given timeout. Throws Poco exceptions like Poco's sessions.
std::unique_ptr<Poco::Net::HTTPClientSession> clientSession(const Poco::URI& uri,
                                                            std::int64_t timeout_ms);

}  // namespace tramite::api
