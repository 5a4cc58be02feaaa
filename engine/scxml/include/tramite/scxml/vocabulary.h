// Vocabularies of elements in other namespaces that documents use beside SCXML (Tramite's
// workflow vocabulary is one, engine/workflow). The parser stays generic: it finds each
// vocabulary's elements, asks the vocabulary where they may stand, validates them against
// its XSD, and asks it for the rules an XSD cannot state; every problem is reported with the
// SCXML ones, in line order. Elements of a namespace no vocabulary claims are kept as they
// are (Chart's extensions and ForeignNode).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tramite/scxml/chart.h"

namespace tramite::scxml {

class Vocabulary {
 public:
  virtual ~Vocabulary() = default;
  // The namespace URI its elements are in.
  virtual std::string_view xmlNamespace() const = 0;
  // What its schema's messages are prefixed with ("workflow vocabulary").
  virtual std::string_view label() const = 0;
  // An XSD 1.0 document for its elements, or "" for none. The parser compiles it once per
  // vocabulary object and validates each top element (one whose parent is not of the
  // vocabulary) against it; it must stay alive and unchanged while the object lives.
  virtual std::string_view schema() const = 0;
  // Why a top element cannot stand where it is (parent: the local name of the SCXML element
  // holding it: "scxml", "state", "onentry", ...), as a whole message; nullopt when it can.
  // Asked before the schema; a misplaced element is not validated further.
  virtual std::optional<std::string> misplaced(const XmlElement& element,
                                               std::string_view parent) const = 0;
  // Rules across attributes and elements for a top element that passed the schema: each
  // problem as (line, message).
  virtual void check(const XmlElement& element,
                     std::vector<std::pair<int, std::string>>& problems) const = 0;
};

}  // namespace tramite::scxml
