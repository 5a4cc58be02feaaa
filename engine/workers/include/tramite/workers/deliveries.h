// Deliveries of the outbox: what instances and consumers asked to send once their commit
// stood. The senders are interfaces; their network clients live in tramite_api (Poco::Net).
#pragma once

#include <cstdint>
#include <string>

#include "tramite/clock.h"
#include "tramite/runtime/engine.h"
#include "tramite/scxml/event.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::workers {

// Posts an SCXML event to a URL (SCXML's BasicHTTP Event I/O Processor).
class EventPoster {
 public:
  virtual ~EventPoster() = default;
  // idempotency_key, when set, lets the receiver apply a retried post once. Errors:
  // kPermissionDenied (a target refused before any attempt), kUnavailable (it failed).
  // Thread-safe.
  virtual Status post(const std::string& url, const scxml::Event& event,
                      const std::string& idempotency_key = {}) const = 0;
};

// Delivers the BasicHTTP sends instances made (the engine's "send.http" outbox rows) that
// are due at now: each is posted with Idempotency-Key "tramite-outbox-<row id>" and then
// marked done, so a crash in between posts it again and a Tramite receiver still applies it
// once. A refused or failed post is marked done too and becomes error.communication in the
// sending instance. Returns how many rows were settled. Thread-safe; several servers may
// deliver from one store (each row is settled once).
Result<int> deliverBasicHttpSends(runtime::Engine& engine, storage::Store& store,
                                  const EventPoster& poster, TimePoint now, int limit = 64);

struct MailMessage {
  std::string to;          // one address
  std::string subject;     // UTF-8
  std::string body;        // UTF-8 plain text
  std::string message_id;  // a token stable per notification (the Message-ID's left part)
};

// Sends one message. Errors: kUnavailable (the server cannot be reached or refused it for
// now: try again later), kInvalidArgument (it refused the message for good).
class MailSender {
 public:
  virtual ~MailSender() = default;
  virtual Status send(const MailMessage& message) = 0;
};

// When a failed e-mail is tried again: retry_ms after the first failure, doubling with each
// further one, never more than max_retry_ms apart. An e-mail is never dropped.
struct MailRetry {
  std::int64_t retry_ms = 30'000;
  std::int64_t max_retry_ms = 3'600'000;
};

// Sends the e-mails (outbox kind "email") due at now, oldest first, at most limit: each is
// marked done once the server accepted it, or its next attempt set by retry. Run by one
// server at a time (the "email" lease of the worker loop), so a message is sent again only
// when a crash falls between the server's acceptance and the mark. Returns how many were
// sent. Errors: the store's (a row's failure to send is not an error of the run).
Result<int> deliverEmails(storage::Store& store, MailSender& sender, TimePoint now,
                          const MailRetry& retry, int limit = 64);

}  // namespace tramite::workers
