#include "workflow_schema.h"

#include <libxml/xmlschemas.h>

#include <cstdlib>
#include <memory>

#include "text_util.h"
#include "xml_util.h"

namespace tramite::scxml {

namespace {

constexpr const char kXsd[] =
#include "workflow_schema.inc"
    ;

using xml::attr;
using xml::inNamespace;
using xml::lineOf;
using xml::nodeName;

bool hasAttr(const xmlNode* n, const char* name) {
  return attr(n, name).has_value();
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
  c->out->push_back(
      Diagnostic{*c->source, error->line > 0 ? error->line : 1,
                 "workflow vocabulary: " + text::trim(error->message ? error->message : "")});
}

// Rules that cross attributes, which XSD 1.0 cannot state, for element e and its content.
void checkRules(const xmlNode* e, const std::string& source, std::vector<Diagnostic>& out) {
  auto add = [&](const std::string& msg) { out.push_back(Diagnostic{source, lineOf(e), msg}); };
  const std::string_view name = nodeName(e);
  if (name == "deadline") {
    int units = hasAttr(e, "business-days") + hasAttr(e, "calendar-days") + hasAttr(e, "hours");
    if (units != 1) add("a deadline needs exactly one of business-days, calendar-days or hours");
  } else if (name == "on-breach") {
    if (!hasAttr(e, "raise") && !hasAttr(e, "escalate-to") && !hasAttr(e, "notify")) {
      add("on-breach needs raise, escalate-to or notify");
    }
  } else if (name == "approval") {
    const bool n_of_m = attr(e, "rule") == "n-of-m";
    if (n_of_m != hasAttr(e, "n"))
      add(n_of_m ? "rule n-of-m needs n" : "n is only for rule n-of-m");
  } else if (name == "exclude") {
    const bool submitter = attr(e, "who") == "submitter";
    if (submitter != hasAttr(e, "task")) {
      add(submitter ? "exclude who=\"submitter\" names the task whose submitter it is"
                    : "task is only for who=\"submitter\"");
    }
  } else if (name == "signed-by") {
    if (hasAttr(e, "count") && attr(e, "rule") == "all") {
      add("signed-by takes count or rule=\"all\", not both");
    }
  } else if (name == "field" || name == "input") {
    const bool user = attr(e, "type") == "user";
    if (user != hasAttr(e, "roles")) {
      add(user ? "a field of type user names the roles its user must hold (roles)"
               : "roles is only for fields of type user");
    }
  } else if (name == "accepts") {
    if (!hasAttr(e, "roles") && attr(e, "who") != "requester") {
      add("accepts names who may send the event: roles, or who=\"requester\"");
    }
    const std::string event = attr(e, "event").value_or("");
    for (const char* reserved : {"task", "done", "error"}) {
      const std::string prefix = std::string(reserved) + ".";
      if (event == reserved || event.rfind(prefix, 0) == 0) {
        add("'" + event + "' is raised by the engine itself and cannot be accepted from outside");
      }
    }
  } else if (name == "task" || name == "approver") {
    if (!hasAttr(e, "roles") && !hasAttr(e, "units") && !hasAttr(e, "users")) {
      add(std::string(name == "task" ? "a task" : "an approver") +
          " needs candidates: roles, units or users");
    }
  }
  for (const xmlNode* c = e->children; c; c = c->next) {
    if (inNamespace(c, kWorkflowNamespace)) checkRules(c, source, out);
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
    const std::string name(nodeName(n));
    const std::string_view parent =
        inNamespace(n->parent, kScxmlNamespace) ? nodeName(n->parent) : std::string_view();
    const bool in_state = parent == "state" || parent == "parallel";
    const bool executable = parent == "onentry" || parent == "onexit" || parent == "transition" ||
                            parent == "if" || parent == "foreach";
    const char* misplaced = nullptr;
    if (name == "input") {
      if (parent != "scxml") misplaced = "directly inside <scxml>";
    } else if (name == "accepts") {
      if (!in_state && parent != "scxml") {
        misplaced = "directly inside <scxml>, a <state> or a <parallel>";
      }
    } else if (name == "task" || name == "approval" || name == "deadline") {
      if (!in_state) misplaced = "directly inside a <state> or <parallel>";
    } else if (name == "requires") {
      if (!in_state && parent != "transition") {
        misplaced = "directly inside a <state>, <parallel> or <transition>";
      }
    } else if (name == "render") {
      if (!executable) misplaced = "in executable content (<onentry>, <onexit>, <transition>)";
    } else {
      out.push_back(Diagnostic{source_name, lineOf(n),
                               "unknown workflow element <" + name +
                                   "> (the vocabulary has input, accepts, task, approval, "
                                   "deadline, requires and render)"});
      continue;
    }
    if (misplaced) {
      out.push_back(Diagnostic{source_name, lineOf(n), "<" + name + "> belongs " + misplaced});
      continue;
    }
    const std::size_t before = out.size();
    xmlSchemaValidateOneElement(ctxt.get(), n);
    if (out.size() == before) checkRules(n, source_name, out);
  }
}

}  // namespace tramite::scxml
