// The e-mail sender of notifications: SMTP (RFC 5321) through Poco::Net's client.
#pragma once

#include <cstdint>
#include <string>

#include "tramite/workers/deliveries.h"

namespace tramite::api {

struct SmtpOptions {
  std::string host;  // empty: e-mail is off
  int port = 25;
  std::string from;      // the sender address; its domain names the messages (Message-ID)
  std::string username;  // with password: AUTH LOGIN after EHLO; empty: no authentication
  std::string password;
  std::int64_t timeout_ms = 10'000;  // to connect, and for each reply
};

// One connection per message (notifications are few and the server may be far). Thread-safe.
class SmtpMailSender final : public workers::MailSender {
 public:
  explicit SmtpMailSender(SmtpOptions options) : options_(std::move(options)) {}
  // The message as text/plain UTF-8 (quoted-printable), the subject RFC 2047-encoded, with
  // Message-ID <message_id@domain of from>. Errors: kUnavailable (no connection, a timeout,
  // any refusal: it is tried again later).
  Status send(const workers::MailMessage& message) override;

 private:
  SmtpOptions options_;
};

}  // namespace tramite::api
