#include "workflow_schema.h"

#include <libxml/xmlschemas.h>

#include <cstring>
#include <memory>
#include <mutex>

namespace tramite::scxml {

namespace {

constexpr const char kXsd[] =
#include "workflow_schema.inc"
    ;

bool inNamespace(const xmlNode* n, const char* ns) {
  return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
         std::strcmp(reinterpret_cast<const char*>(n->ns->href), ns) == 0;
}

bool named(const xmlNode* n, const char* name) {
  return std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

bool hasAttr(const xmlNode* n, const char* name) {
  return xmlHasProp(n, reinterpret_cast<const xmlChar*>(name)) != nullptr;
}

int lineOf(const xmlNode* n) {
  return static_cast<int>(xmlGetLineNo(n));
}

std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The compiled schema, shared by every validation (libxml2 schemas are read-only once
// parsed). Aborts on a broken built-in schema: that is a bug in the build, not in input.
xmlSchemaPtr schema() {
  static xmlSchemaPtr compiled = [] {
    std::unique_ptr<xmlSchemaParserCtxt, void (*)(xmlSchemaParserCtxtPtr)> ctxt(
        xmlSchemaNewMemParserCtxt(kXsd, static_cast<int>(sizeof kXsd - 1)),
        xmlSchemaFreeParserCtxt);
    xmlSchemaPtr s = ctxt ? xmlSchemaParse(ctxt.get()) : nullptr;
    if (!s) std::abort();
    return s;
  }();
  return compiled;
}

struct Collector {
  const std::string* source;
  std::vector<Diagnostic>* out;
};

void collect(void* data, xmlErrorPtr error) {
  auto* c = static_cast<Collector*>(data);
  c->out->push_back(Diagnostic{*c->source, error->line > 0 ? error->line : 1,
                               "workflow vocabulary: " + trimmed(error->message)});
}

// Rules that cross attributes, which XSD 1.0 cannot state.
void checkRules(const xmlNode* n, const std::string& source, std::vector<Diagnostic>& out) {
  auto add = [&](const xmlNode* at, const std::string& msg) {
    out.push_back(Diagnostic{source, lineOf(at), msg});
  };
  for (const xmlNode* c = n; c; c = c->next) {
    if (!inNamespace(c, kWorkflowNamespace)) continue;
    if (named(c, "deadline")) {
      int units = hasAttr(c, "business-days") + hasAttr(c, "calendar-days") + hasAttr(c, "hours");
      if (units != 1) {
        add(c, "a deadline needs exactly one of business-days, calendar-days or hours");
      }
    } else if (named(c, "on-breach")) {
      if (!hasAttr(c, "raise") && !hasAttr(c, "escalate-to") && !hasAttr(c, "notify")) {
        add(c, "on-breach needs raise, escalate-to or notify");
      }
    } else if (named(c, "approval")) {
      std::unique_ptr<xmlChar, void (*)(void*)> rule(
          xmlGetProp(c, reinterpret_cast<const xmlChar*>("rule")), xmlFree);
      const bool n_of_m = rule && std::strcmp(reinterpret_cast<char*>(rule.get()), "n-of-m") == 0;
      if (n_of_m != hasAttr(c, "n")) {
        add(c, n_of_m ? "rule n-of-m needs n" : "n is only for rule n-of-m");
      }
    } else if (named(c, "exclude")) {
      std::unique_ptr<xmlChar, void (*)(void*)> who(
          xmlGetProp(c, reinterpret_cast<const xmlChar*>("who")), xmlFree);
      const bool submitter =
          who && std::strcmp(reinterpret_cast<char*>(who.get()), "submitter") == 0;
      if (submitter != hasAttr(c, "task")) {
        add(c, submitter ? "exclude who=\"submitter\" names the task whose submitter it is"
                         : "task is only for who=\"submitter\"");
      }
    } else if (named(c, "task") || named(c, "approver")) {
      if (!hasAttr(c, "roles") && !hasAttr(c, "units") && !hasAttr(c, "users")) {
        add(c, std::string(named(c, "task") ? "a task" : "an approver") +
                   " needs candidates: roles, units or users");
      }
    }
    checkRules(c->children, source, out);
  }
}

}  // namespace

void validateWorkflowElements(xmlDocPtr doc, const std::string& source_name,
                              std::vector<Diagnostic>& out) {
  std::vector<xmlNodePtr> roots;  // workflow elements whose parent is not one
  for (xmlNodePtr n = xmlDocGetRootElement(doc); n != nullptr;) {
    if (inNamespace(n, kWorkflowNamespace) && !inNamespace(n->parent, kWorkflowNamespace)) {
      roots.push_back(n);
    }
    if (n->children) {
      n = n->children;
      continue;
    }
    while (n && n->next == nullptr) n = n->parent;
    if (n) n = n->next;
  }
  if (roots.empty()) return;
  std::unique_ptr<xmlSchemaValidCtxt, void (*)(xmlSchemaValidCtxtPtr)> ctxt(
      xmlSchemaNewValidCtxt(schema()), xmlSchemaFreeValidCtxt);
  Collector collector{&source_name, &out};
  xmlSchemaSetValidStructuredErrors(ctxt.get(), collect, &collector);
  for (xmlNodePtr n : roots) {
    const std::string name = reinterpret_cast<const char*>(n->name);
    const bool scxml_parent = n->parent && n->parent->ns && n->parent->ns->href &&
                              std::strcmp(reinterpret_cast<const char*>(n->parent->ns->href),
                                          "http://www.w3.org/2005/07/scxml") == 0 &&
                              (named(n->parent, "state") || named(n->parent, "parallel"));
    if (name != "task" && name != "approval" && name != "deadline") {
      out.push_back(Diagnostic{source_name, lineOf(n),
                               "unknown workflow element <" + name +
                                   "> (the vocabulary has task, approval and deadline)"});
      continue;
    }
    if (!scxml_parent) {
      out.push_back(Diagnostic{source_name, lineOf(n),
                               "<" + name + "> belongs directly inside a <state> or <parallel>"});
      continue;
    }
    const std::size_t before = out.size();
    xmlSchemaValidateOneElement(ctxt.get(), n);
    if (out.size() == before) {
      xmlNodePtr saved_next = n->next;  // check this element only, not its siblings
      n->next = nullptr;
      checkRules(n, source_name, out);
      n->next = saved_next;
    }
  }
}

}  // namespace tramite::scxml
