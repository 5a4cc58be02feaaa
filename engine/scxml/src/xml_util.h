// libxml2 node helpers shared by the parser and the workflow vocabulary's validation
// (internal header).
#pragma once

#include <libxml/tree.h>

#include <optional>
#include <string>
#include <string_view>

namespace tramite::scxml::xml {

// Whether node is an element of the namespace ns.
inline bool inNamespace(const xmlNode* node, std::string_view ns) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && node->ns != nullptr &&
         node->ns->href != nullptr &&
         std::string_view(reinterpret_cast<const char*>(node->ns->href)) == ns;
}

inline std::string_view nodeName(const xmlNode* node) {
  return reinterpret_cast<const char*>(node->name);
}

inline int lineOf(const xmlNode* node) {
  return static_cast<int>(xmlGetLineNo(node));
}

// An un-namespaced attribute's value (the only kind SCXML and our vocabulary use).
inline std::optional<std::string> attr(const xmlNode* node, const char* name) {
  xmlChar* v = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

}  // namespace tramite::scxml::xml
