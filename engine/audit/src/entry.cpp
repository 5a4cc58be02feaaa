#include "tramite/audit/entry.h"

namespace tramite::audit {

namespace {

void putU32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

void putText(std::string& out, const std::string& text) {
  putU32(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

}  // namespace

std::string entryBytes(const LedgerEntry& entry) {
  std::string out;
  out.reserve(1 + 8 + 16 + entry.instance_id.size() + entry.actor.size() + entry.kind.size() +
              entry.detail.size());
  out += '\x01';
  const auto at = static_cast<std::uint64_t>(entry.at);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((at >> shift) & 0xFF);
  putText(out, entry.instance_id);
  putText(out, entry.actor);
  putText(out, entry.kind);
  putText(out, entry.detail);
  return out;
}

Hash entryLeafHash(const LedgerEntry& entry) {
  return leafHash(entryBytes(entry));
}

}  // namespace tramite::audit
