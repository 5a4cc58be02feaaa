#include "tramite/api/smtp.h"

#include <Poco/Exception.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

namespace tramite::api {

Status SmtpMailSender::send(const workers::MailMessage& message) {
  const auto at = options_.from.rfind('@');
  const std::string domain = at == std::string::npos ? "tramite" : options_.from.substr(at + 1);
  try {
    Poco::Net::MailMessage mail;
    mail.setSender(options_.from);
    mail.addRecipient(
        Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, message.to));
    mail.setSubject(Poco::Net::MailMessage::encodeWord(message.subject, "UTF-8"));
    mail.set("Message-ID", "<" + message.message_id + "@" + domain + ">");
    mail.setContentType("text/plain; charset=UTF-8");
    mail.setContent(message.body, Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);

    const Poco::Timespan timeout(options_.timeout_ms * 1000);
    Poco::Net::StreamSocket socket;
    socket.connect(
        Poco::Net::SocketAddress(options_.host, static_cast<Poco::UInt16>(options_.port)), timeout);
    Poco::Net::SMTPClientSession session(socket);
    session.setTimeout(timeout);
    if (options_.username.empty()) {
      session.login(domain);
    } else {
      session.login(domain, Poco::Net::SMTPClientSession::AUTH_LOGIN, options_.username,
                    options_.password);
    }
    session.sendMessage(mail);
    try {
      session.close();
    } catch (const Poco::Exception&) {
      // Accepted already: a QUIT that fails changes nothing.
    }
    return Status::ok();
  } catch (const Poco::Exception& e) {
    return Status(
        ErrorCode::kUnavailable,
        "SMTP " + options_.host + ":" + std::to_string(options_.port) + ": " + e.displayText());
  }
}

}  // namespace tramite::api
