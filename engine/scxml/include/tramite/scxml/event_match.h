// SCXML event descriptors (section 3.12.1): "foo" matches "foo" and "foo.bar"; "foo.*" and
// "foo." mean the same as "foo"; "*" matches every event.
#pragma once

#include <string>
#include <string_view>

namespace tramite::scxml {

// Canonical form of one descriptor token; empty when the token is not a valid descriptor.
std::string normaliseDescriptor(std::string_view token);

// Does a normalised descriptor match an event name?
inline bool descriptorMatches(std::string_view descriptor, std::string_view name) {
  if (descriptor.size() == 1 && descriptor[0] == '*') return true;
  if (name.size() < descriptor.size()) return false;
  if (name.compare(0, descriptor.size(), descriptor) != 0) return false;
  return name.size() == descriptor.size() || name[descriptor.size()] == '.';
}

}  // namespace tramite::scxml
