// SCXML loading: libxml2 (hardened) → DOM → Chart, with validation that reports every problem.
#include "tramite/scxml/parser.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <libxml/xmlschemas.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "text_util.h"
#include "tramite/file.h"
#include "tramite/scxml/duration.h"
#include "tramite/scxml/event_match.h"
#include "xml_util.h"

namespace tramite::scxml {

std::string Diagnostic::toString() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

std::string ParseResult::errorText() const {
  std::string out;
  for (const auto& d : errors) {
    out += d.toString();
    out += '\n';
  }
  return out;
}

namespace {

// libxml2 must never fetch anything on its own: every external entity, DTD or XInclude
// load is refused process-wide.
xmlParserInputPtr refuseExternalEntity(const char* url, const char*, xmlParserCtxtPtr ctxt) {
  (void)url;
  (void)ctxt;
  return nullptr;
}

void initLibxml() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    xmlSetExternalEntityLoader(refuseExternalEntity);
  });
}

using text::splitTokens;
using text::trim;

using xml::attr;
using xml::lineOf;
using xml::nodeName;

bool inScxmlNs(xmlNodePtr node) {
  return xml::inNamespace(node, kScxmlNamespace);
}

std::string textContent(xmlNodePtr node) {
  std::string out;
  for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
      out += reinterpret_cast<const char*>(c->content);
    }
  }
  return out;
}

bool hasElementChildren(xmlNodePtr node) {
  for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) return true;
  }
  return false;
}

// Serialises the element children of node as markup. Each child is copied into a scratch
// document first, which declares the namespaces it inherited, so the text stands alone.
std::string innerMarkup(xmlNodePtr node) {
  std::string out;
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> scratch(
      xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0")), xmlFreeDoc);
  for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    xmlNodePtr copy = xmlDocCopyNode(c, scratch.get(), 1);
    if (copy == nullptr) continue;
    xmlNodePtr old_root = xmlDocSetRootElement(scratch.get(), copy);
    if (old_root) xmlFreeNode(old_root);
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, scratch.get(), copy, 0, 0);
    out.append(reinterpret_cast<const char*>(xmlBufferContent(buf)),
               static_cast<std::size_t>(xmlBufferLength(buf)));
    xmlBufferFree(buf);
  }
  return out;
}

XmlElement toXmlElement(xmlNodePtr node) {
  XmlElement e;
  e.ns = node->ns && node->ns->href ? reinterpret_cast<const char*>(node->ns->href) : "";
  e.name = std::string(nodeName(node));
  e.line = lineOf(node);
  for (xmlAttrPtr a = node->properties; a != nullptr; a = a->next) {
    xmlChar* v = xmlNodeListGetString(node->doc, a->children, 1);
    e.attributes.emplace_back(reinterpret_cast<const char*>(a->name),
                              v ? reinterpret_cast<const char*>(v) : "");
    if (v) xmlFree(v);
  }
  for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) e.children.push_back(toXmlElement(c));
  }
  e.text = trim(textContent(node));
  return e;
}

// ---- vocabularies of other namespaces ----

// A vocabulary's compiled XSD, compiled once per vocabulary and shared (libxml2 schemas are
// read-only once parsed); null when it has none. A schema that does not compile is a bug of
// the build that shipped it, not of the input: abort.
// Freed at exit, so that leak checkers see every schema released.
class CompiledSchemas {
 public:
  ~CompiledSchemas() {
    for (auto& [vocabulary, schema] : schemas_) {
      if (schema) xmlSchemaFree(schema);
    }
  }
  std::mutex mu;
  std::map<const Vocabulary*, xmlSchemaPtr> schemas_;
};

xmlSchemaPtr compiledSchema(const Vocabulary& v) {
  static CompiledSchemas cache;
  std::lock_guard<std::mutex> lock(cache.mu);
  auto& compiled = cache.schemas_;
  auto it = compiled.find(&v);
  if (it != compiled.end()) return it->second;
  const std::string_view xsd = v.schema();
  xmlSchemaPtr schema = nullptr;
  if (!xsd.empty()) {
    std::unique_ptr<xmlSchemaParserCtxt, void (*)(xmlSchemaParserCtxtPtr)> ctxt(
        xmlSchemaNewMemParserCtxt(xsd.data(), static_cast<int>(xsd.size())),
        xmlSchemaFreeParserCtxt);
    schema = ctxt ? xmlSchemaParse(ctxt.get()) : nullptr;
    if (!schema) std::abort();
  }
  return compiled.emplace(&v, schema).first->second;
}

struct SchemaErrors {
  const std::string* source;
  std::string_view label;  // the vocabulary's
  std::vector<Diagnostic>* out;
};

void collectSchemaError(void* data, xmlErrorPtr error) {
  auto* c = static_cast<SchemaErrors*>(data);
  c->out->push_back(
      Diagnostic{*c->source, error->line > 0 ? error->line : 1,
                 std::string(c->label) + ": " + trim(error->message ? error->message : "")});
}

// Appends one diagnostic per problem of each vocabulary's elements in doc.
void validateVocabularies(xmlDocPtr doc, const std::string& source,
                          const std::vector<const Vocabulary*>& vocabularies,
                          std::vector<Diagnostic>& out) {
  for (const Vocabulary* v : vocabularies) {
    const std::string ns(v->xmlNamespace());
    std::vector<xmlNodePtr> tops;  // the vocabulary's elements whose parent is not one
    for (xmlNodePtr n = xmlDocGetRootElement(doc); n != nullptr;) {
      if (xml::inNamespace(n, ns) && !xml::inNamespace(n->parent, ns)) tops.push_back(n);
      if (n->children) {
        n = n->children;
        continue;
      }
      while (n && n->next == nullptr) n = n->parent;
      if (n) n = n->next;
    }
    if (tops.empty()) continue;
    xmlSchemaPtr schema = compiledSchema(*v);
    std::unique_ptr<xmlSchemaValidCtxt, void (*)(xmlSchemaValidCtxtPtr)> ctxt(
        schema ? xmlSchemaNewValidCtxt(schema) : nullptr, xmlSchemaFreeValidCtxt);
    SchemaErrors errors{&source, v->label(), &out};
    if (ctxt) xmlSchemaSetValidStructuredErrors(ctxt.get(), collectSchemaError, &errors);
    for (xmlNodePtr n : tops) {
      const XmlElement element = toXmlElement(n);
      const std::string_view parent =
          xml::inNamespace(n->parent, kScxmlNamespace) ? nodeName(n->parent) : std::string_view();
      if (auto why = v->misplaced(element, parent)) {
        out.push_back(Diagnostic{source, element.line, *why});
        continue;
      }
      const std::size_t before = out.size();
      if (ctxt) xmlSchemaValidateOneElement(ctxt.get(), n);
      if (out.size() != before) continue;
      std::vector<std::pair<int, std::string>> problems;
      v->check(element, problems);
      for (auto& [line, message] : problems) {
        out.push_back(Diagnostic{source, line, std::move(message)});
      }
    }
  }
}

class Compiler {
 public:
  Compiler(std::string source_name, std::string base_dir, const ParseOptions& options)
      : options_(options) {
    data_.source_name = std::move(source_name);
    data_.base_dir = std::move(base_dir);
  }

  ParseResult compile(xmlNodePtr root) {
    ParseResult result;
    if (root == nullptr || nodeName(root) != "scxml" || !inScxmlNs(root)) {
      error(root ? lineOf(root) : 1,
            "the root element must be <scxml> in namespace " + std::string(kScxmlNamespace));
      result.errors = std::move(errors_);
      return result;
    }
    compileRoot(root);
    // References are checked even after other problems so that one run reports them all.
    resolveReferences();
    if (errors_.empty()) computeStructure();
    if (!errors_.empty()) {
      std::stable_sort(errors_.begin(), errors_.end(),
                       [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
      result.errors = std::move(errors_);
      return result;
    }
    data_.expr_count = next_expr_id_;
    result.chart = std::make_shared<const Chart>(std::move(data_));
    return result;
  }

 private:
  struct PendingTargets {
    std::uint32_t transition;
    std::vector<std::string> ids;
    int line;
  };

  void error(int line, std::string message) {
    errors_.push_back(Diagnostic{data_.source_name, line, std::move(message)});
  }

  Expr makeExpr(std::string text) {
    Expr e;
    e.text = std::move(text);
    if (!e.text.empty()) e.id = next_expr_id_++;
    // Code reaches a system variable by its name, or through _ENV by any name.
    const bool uses_env = e.text.find("_ENV") != std::string::npos;
    if (uses_env || e.text.find("_event") != std::string::npos) data_.uses_event = true;
    if (uses_env || e.text.find("_ioprocessors") != std::string::npos) {
      data_.uses_ioprocessors = true;
    }
    return e;
  }

  Expr exprAttr(xmlNodePtr node, const char* name) {
    auto v = attr(node, name);
    if (!v) return Expr{};
    if (trim(*v).empty()) {
      // An empty expression is present but can never evaluate: keep it so that the
      // datamodel reports error.execution at the point of use.
      return makeExpr(" ");
    }
    return makeExpr(*v);
  }

  void checkExclusive(xmlNodePtr node, const char* a, const char* b) {
    if (attr(node, a) && attr(node, b)) {
      error(lineOf(node),
            "<" + std::string(nodeName(node)) + "> may not have both '" + a + "' and '" + b + "'");
    }
  }

  void checkDepth(xmlNodePtr node, std::size_t depth) {
    if (depth > options_.max_depth) {
      error(lineOf(node),
            "elements nested deeper than " + std::to_string(options_.max_depth) + " levels");
    }
  }

  void unknownElement(xmlNodePtr node, std::string_view where) {
    error(lineOf(node),
          "<" + std::string(nodeName(node)) + "> is not allowed in <" + std::string(where) + ">");
  }

  // ---- document level -------------------------------------------------------------------

  void compileRoot(xmlNodePtr root) {
    data_.name = attr(root, "name").value_or("");
    data_.datamodel = trim(attr(root, "datamodel").value_or("null"));
    if (data_.datamodel.empty()) data_.datamodel = "null";
    if (data_.datamodel != "null" && data_.datamodel != "lua") {
      error(lineOf(root),
            "datamodel '" + data_.datamodel + "' is not supported (supported: null, lua)");
    }
    if (auto v = attr(root, "version"); v && trim(*v) != "1.0") {
      error(lineOf(root), "version must be \"1.0\"");
    }
    if (auto b = attr(root, "binding")) {
      if (*b == "late")
        data_.binding = Binding::kLate;
      else if (*b != "early")
        error(lineOf(root), "binding must be \"early\" or \"late\"");
    }
    State rootState;
    rootState.id = "";
    rootState.kind = StateKind::kRoot;
    rootState.line = lineOf(root);
    data_.states.push_back(std::move(rootState));

    for (xmlNodePtr c = root->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (!inScxmlNs(c)) {
        data_.states[kRootState].extensions.push_back(toXmlElement(c));
        continue;
      }
      std::string_view n = nodeName(c);
      if (n == "state" || n == "parallel" || n == "final") {
        compileState(c, kRootState, 1);
      } else if (n == "datamodel") {
        compileDatamodel(c, kRootState);
      } else if (n == "script") {
        data_.script.push_back(compileScript(c));
      } else {
        unknownElement(c, "scxml");
      }
    }
    if (data_.states[kRootState].children.empty()) {
      error(lineOf(root), "<scxml> must contain at least one <state>, <parallel> or <final>");
      return;
    }
    addInitialTransition(kRootState, attr(root, "initial"), nullptr, lineOf(root));
  }

  // ---- states ----------------------------------------------------------------------------

  StateIndex compileState(xmlNodePtr node, StateIndex parent, std::size_t depth) {
    checkDepth(node, depth);
    if (++element_count_ > options_.max_elements) {
      if (element_count_ == options_.max_elements + 1) {
        error(lineOf(node), "more than " + std::to_string(options_.max_elements) + " states");
      }
      return kNoState;
    }
    std::string_view n = nodeName(node);
    auto index = static_cast<StateIndex>(data_.states.size());
    {
      State s;
      s.parent = parent;
      s.line = lineOf(node);
      s.kind = n == "parallel"  ? StateKind::kParallel
               : n == "final"   ? StateKind::kFinal
               : n == "history" ? StateKind::kHistory
                                : StateKind::kAtomic;
      auto id = attr(node, "id");
      if (id && !trim(*id).empty()) {
        s.id = trim(*id);
      } else {
        s.id = "_tramite_state" + std::to_string(index);
      }
      data_.states.push_back(std::move(s));
    }
    if (n == "history") {
      data_.states[parent].history_children.push_back(index);
    } else {
      data_.states[parent].children.push_back(index);
    }

    if (n == "history") {
      compileHistory(node, index);
      return index;
    }

    xmlNodePtr initial_element = nullptr;
    for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (!inScxmlNs(c)) {
        data_.states[index].extensions.push_back(toXmlElement(c));
        continue;
      }
      std::string_view cn = nodeName(c);
      bool is_final = n == "final";
      if (cn == "onentry") {
        Block b = compileBlock(c, depth + 1);
        data_.states[index].onentry.push_back(std::move(b));
      } else if (cn == "onexit") {
        Block b = compileBlock(c, depth + 1);
        data_.states[index].onexit.push_back(std::move(b));
      } else if (cn == "donedata" && is_final) {
        compileDoneData(c, index);
      } else if (is_final) {
        unknownElement(c, "final");
      } else if (cn == "transition") {
        compileTransition(c, index, depth + 1);
      } else if (cn == "state" || cn == "parallel" || cn == "final" || cn == "history") {
        compileState(c, index, depth + 1);
      } else if (cn == "initial" && n == "state") {
        if (initial_element) error(lineOf(c), "a state may have only one <initial>");
        initial_element = c;
      } else if (cn == "datamodel") {
        compileDatamodel(c, index);
      } else if (cn == "invoke") {
        compileInvoke(c, index, depth + 1);
      } else {
        unknownElement(c, std::string(n));
      }
    }

    State& s = data_.states[index];
    if (n == "state") {
      s.kind = s.children.empty() ? StateKind::kAtomic : StateKind::kCompound;
      auto initial_attr = attr(node, "initial");
      if (s.kind == StateKind::kAtomic) {
        if (initial_attr)
          error(lineOf(node), "state '" + s.id +
                                  "' has no child states, so it "
                                  "may not have an 'initial' attribute");
        if (initial_element)
          error(lineOf(initial_element),
                "state '" + s.id + "' has no child states, so it may not have an <initial>");
      } else {
        if (initial_attr && initial_element) {
          error(lineOf(node),
                "state '" + s.id + "' may not have both an 'initial' attribute and an <initial>");
        }
        addInitialTransition(index, initial_attr, initial_element, lineOf(node));
      }
    }
    return index;
  }

  // Adds the default-entry transition of a compound state (or the root).
  void addInitialTransition(StateIndex index, const std::optional<std::string>& initial_attr,
                            xmlNodePtr initial_element, int line) {
    Transition t;
    t.source = index;
    t.line = line;
    std::vector<std::string> ids;
    if (initial_element) {
      xmlNodePtr tr = nullptr;
      int count = 0;
      for (xmlNodePtr c = initial_element->children; c != nullptr; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (inScxmlNs(c) && nodeName(c) == "transition") {
          tr = c;
          ++count;
        } else {
          unknownElement(c, "initial");
        }
      }
      if (count != 1) {
        error(lineOf(initial_element), "<initial> must contain exactly one <transition>");
        return;
      }
      t.line = lineOf(tr);
      if (attr(tr, "event") || attr(tr, "cond")) {
        error(lineOf(tr), "the <transition> of an <initial> may not have 'event' or 'cond'");
      }
      ids = splitTokens(attr(tr, "target").value_or(""));
      if (ids.empty()) error(lineOf(tr), "the <transition> of an <initial> must have a target");
      t.actions = compileBlock(tr, 1);
    } else if (initial_attr) {
      ids = splitTokens(*initial_attr);
      if (ids.empty()) error(line, "the 'initial' attribute is empty");
    } else {
      const State& s = data_.states[index];
      if (s.children.empty()) return;
      t.targets.push_back(s.children.front());
    }
    auto ti = static_cast<std::uint32_t>(data_.transitions.size());
    data_.transitions.push_back(std::move(t));
    data_.states[index].initial_transition = static_cast<std::int32_t>(ti);
    if (!ids.empty()) {
      pending_initials_.push_back(
          {ti, std::move(ids), initial_element ? lineOf(initial_element) : line});
    }
  }

  void compileHistory(xmlNodePtr node, StateIndex index) {
    State& h = data_.states[index];
    auto type = attr(node, "type").value_or("shallow");
    if (type == "deep")
      h.history_type = HistoryType::kDeep;
    else if (type != "shallow")
      error(lineOf(node), "history type must be \"shallow\" or \"deep\"");
    int count = 0;
    for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (!inScxmlNs(c) || nodeName(c) != "transition") {
        unknownElement(c, "history");
        continue;
      }
      if (++count > 1) {
        error(lineOf(c), "history '" + data_.states[index].id +
                             "' must have at most one default <transition>");
        continue;
      }
      if (attr(c, "event") || attr(c, "cond")) {
        error(lineOf(c), "the default transition of history '" + data_.states[index].id +
                             "' may not have 'event' or 'cond'");
      }
      auto ids = splitTokens(attr(c, "target").value_or(""));
      if (ids.empty()) {
        error(lineOf(c), "the default transition of history '" + data_.states[index].id +
                             "' must have a target");
      }
      Transition t;
      t.source = index;
      t.line = lineOf(c);
      t.actions = compileBlock(c, 1);
      auto ti = static_cast<std::uint32_t>(data_.transitions.size());
      data_.transitions.push_back(std::move(t));
      data_.states[index].initial_transition = static_cast<std::int32_t>(ti);
      pending_history_defaults_.push_back({ti, std::move(ids), lineOf(c)});
    }
  }

  void compileTransition(xmlNodePtr node, StateIndex source, std::size_t depth) {
    Transition t;
    t.source = source;
    t.line = lineOf(node);
    if (auto ev = attr(node, "event")) {
      for (auto& token : splitTokens(*ev)) {
        std::string normalised = normaliseDescriptor(token);
        if (normalised.empty()) {
          error(t.line, "invalid event descriptor '" + token + "'");
          continue;
        }
        t.events.push_back(std::move(normalised));
      }
      if (t.events.empty() && errors_.empty()) {
        error(t.line, "the 'event' attribute is empty");
      }
    }
    t.cond = exprAttr(node, "cond");
    checkCondition(t.cond, t.line);
    if (auto type = attr(node, "type")) {
      if (*type == "internal")
        t.type = TransitionType::kInternal;
      else if (*type != "external")
        error(t.line, "transition type must be \"internal\" or \"external\"");
    }
    t.actions = compileBlock(node, depth);
    auto ti = static_cast<std::uint32_t>(data_.transitions.size());
    auto ids = splitTokens(attr(node, "target").value_or(""));
    data_.transitions.push_back(std::move(t));
    data_.states[source].transitions.push_back(ti);
    if (!ids.empty()) pending_targets_.push_back({ti, std::move(ids), lineOf(node)});
  }

  // In the null datamodel a condition may only be In(stateId).
  void checkCondition(const Expr& cond, int line) {
    if (cond.empty() || data_.datamodel != "null") return;
    std::string c = trim(cond.text);
    bool ok = c.size() > 4 && c.compare(0, 3, "In(") == 0 && c.back() == ')';
    if (!ok) {
      error(line, "condition '" + cond.text +
                      "' is not valid in the null datamodel (only In(stateId) is allowed)");
    }
  }

  // The null datamodel has no data, scripts or assignments.
  void requireDatamodel(const char* element, int line) {
    if (data_.datamodel == "null") {
      error(line, std::string(element) + " is not available in the null datamodel");
    }
  }

  void compileDatamodel(xmlNodePtr node, StateIndex owner) {
    for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (!inScxmlNs(c) || nodeName(c) != "data") {
        unknownElement(c, "datamodel");
        continue;
      }
      DataDecl d;
      d.line = lineOf(c);
      d.id = trim(attr(c, "id").value_or(""));
      if (d.id.empty()) error(d.line, "<data> must have an 'id'");
      if (!data_ids_.insert(d.id).second && !d.id.empty()) {
        error(d.line, "duplicate <data> id '" + d.id + "'");
      }
      int sources = (attr(c, "expr") ? 1 : 0) + (attr(c, "src") ? 1 : 0) +
                    ((hasElementChildren(c) || !trim(textContent(c)).empty()) ? 1 : 0);
      if (sources > 1) {
        error(d.line, "<data> may have only one of 'expr', 'src' or inline content");
      }
      requireDatamodel("<data>", d.line);
      if (auto e = attr(c, "expr")) {
        d.expr = exprAttr(c, "expr");
      } else if (auto src = attr(c, "src")) {
        d.src = *src;
        std::string text;
        std::string why;
        if (!options_.load_src) {
          error(d.line, "<data src> is not allowed here: put the value inside the element");
        } else if (readLocalReference(*src, data_.base_dir, &text, &why)) {
          d.expr = makeExpr(trim(text));
        } else {
          d.src_failed = true;
        }
      } else if (hasElementChildren(c)) {
        d.inline_markup = true;
        d.inline_body = innerMarkup(c);
      } else {
        std::string body = trim(textContent(c));
        if (!body.empty()) {
          d.inline_body = body;
          d.expr = makeExpr(body);
        }
      }
      data_.states[owner].data.push_back(std::move(d));
    }
  }

  void compileDoneData(xmlNodePtr node, StateIndex index) {
    DoneData& dd = data_.states[index].donedata;
    dd.present = true;
    for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (!inScxmlNs(c)) continue;
      if (nodeName(c) == "param") {
        dd.params.push_back(compileParam(c));
      } else if (nodeName(c) == "content") {
        dd.content = compileContent(c);
      } else {
        unknownElement(c, "donedata");
      }
    }
    if (dd.content.present && !dd.params.empty()) {
      error(lineOf(node), "<donedata> may have <content> or <param>, not both");
    }
  }

  void compileInvoke(xmlNodePtr node, StateIndex owner, std::size_t depth) {
    Invoke inv;
    inv.line = lineOf(node);
    checkExclusive(node, "type", "typeexpr");
    checkExclusive(node, "src", "srcexpr");
    checkExclusive(node, "id", "idlocation");
    inv.type = attr(node, "type").value_or("");
    inv.typeexpr = exprAttr(node, "typeexpr");
    inv.src = attr(node, "src").value_or("");
    inv.srcexpr = exprAttr(node, "srcexpr");
    inv.id = attr(node, "id").value_or("");
    inv.idlocation = exprAttr(node, "idlocation");
    for (auto& name : splitTokens(attr(node, "namelist").value_or(""))) {
      inv.namelist.push_back(makeExpr(name));
    }
    auto af = attr(node, "autoforward").value_or("false");
    if (af == "true")
      inv.autoforward = true;
    else if (af != "false")
      error(inv.line, "autoforward must be \"true\" or \"false\"");
    for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE || !inScxmlNs(c)) continue;
      std::string_view cn = nodeName(c);
      if (cn == "param")
        inv.params.push_back(compileParam(c));
      else if (cn == "content") {
        if (inv.content.present) error(lineOf(c), "<invoke> may have only one <content>");
        inv.content = compileContent(c);
      } else if (cn == "finalize") {
        inv.finalize = compileBlock(c, depth + 1);
      } else {
        unknownElement(c, "invoke");
      }
    }
    if (inv.content.present && (!inv.src.empty() || !inv.srcexpr.empty())) {
      error(inv.line, "<invoke> may not have both 'src'/'srcexpr' and <content>");
    }
    if (!inv.namelist.empty() && !inv.params.empty()) {
      error(inv.line, "<invoke> may not have both 'namelist' and <param>");
    }
    data_.states[owner].invokes.push_back(std::move(inv));
  }

  Param compileParam(xmlNodePtr node) {
    Param p;
    p.line = lineOf(node);
    p.name = attr(node, "name").value_or("");
    if (p.name.empty()) error(p.line, "<param> must have a 'name'");
    checkExclusive(node, "expr", "location");
    p.expr = exprAttr(node, "expr");
    p.location = exprAttr(node, "location");
    if (p.expr.empty() && p.location.empty()) {
      error(p.line, "<param> must have 'expr' or 'location'");
    }
    return p;
  }

  Content compileContent(xmlNodePtr node) {
    Content c;
    c.present = true;
    c.expr = exprAttr(node, "expr");
    bool has_body = hasElementChildren(node) || !trim(textContent(node)).empty();
    if (!c.expr.empty() && has_body) {
      error(lineOf(node), "<content> may have an 'expr' or a body, not both");
    }
    if (hasElementChildren(node)) {
      c.body = innerMarkup(node);
      c.body_is_markup = true;
    } else {
      c.body = trim(textContent(node));
    }
    return c;
  }

  // ---- executable content ----------------------------------------------------------------

  Executable compileScript(xmlNodePtr node) {
    Executable ex;
    ex.line = lineOf(node);
    ScriptNode script;
    auto src = attr(node, "src");
    std::string body = textContent(node);
    if (src && !trim(body).empty()) {
      error(ex.line, "<script> may have 'src' or a body, not both");
    }
    requireDatamodel("<script>", ex.line);
    if (src) {
      std::string text;
      std::string why;
      if (!options_.load_src) {
        error(ex.line, "<script src> is not allowed here: put the script inside the element");
      } else if (!readLocalReference(*src, data_.base_dir, &text, &why)) {
        error(ex.line, "cannot load script '" + *src + "': " + why);
      }
      script.source = makeExpr(text);
    } else {
      script.source = makeExpr(body);
    }
    ex.node = std::move(script);
    return ex;
  }

  Block compileBlock(xmlNodePtr parent, std::size_t depth) {
    checkDepth(parent, depth);
    return compileRange(parent->children, nullptr, nodeName(parent), depth);
  }

  // Compiles the sibling elements [first, end) as one block of executable content.
  Block compileRange(xmlNodePtr first, xmlNodePtr end, std::string_view parent_name,
                     std::size_t depth) {
    Block block;
    for (xmlNodePtr c = first; c != end; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (!inScxmlNs(c)) {
        Executable ex;
        ex.line = lineOf(c);
        ex.node = ForeignNode{toXmlElement(c)};
        block.push_back(std::move(ex));
        continue;
      }
      std::string_view n = nodeName(c);
      if (n == "if") {
        block.push_back(compileIf(c, depth + 1));
      } else if (n == "script") {
        block.push_back(compileScript(c));
      } else if (auto ex = compileSimple(c, depth)) {
        block.push_back(std::move(*ex));
      } else {
        unknownElement(c, parent_name);
      }
    }
    return block;
  }

  // raise, send, cancel, log, assign, foreach; nullopt for anything else.
  std::optional<Executable> compileSimple(xmlNodePtr c, std::size_t depth) {
    std::string_view n = nodeName(c);
    Executable ex;
    ex.line = lineOf(c);
    if (n == "raise") {
      RaiseNode r;
      r.event = attr(c, "event").value_or("");
      if (r.event.empty()) error(ex.line, "<raise> must have an 'event'");
      ex.node = std::move(r);
    } else if (n == "send") {
      ex.node = compileSend(c);
    } else if (n == "cancel") {
      CancelNode cn;
      checkExclusive(c, "sendid", "sendidexpr");
      cn.sendid = attr(c, "sendid").value_or("");
      cn.sendidexpr = exprAttr(c, "sendidexpr");
      if (cn.sendid.empty() && cn.sendidexpr.empty()) {
        error(ex.line, "<cancel> must have 'sendid' or 'sendidexpr'");
      }
      ex.node = std::move(cn);
    } else if (n == "log") {
      LogNode l;
      l.label = attr(c, "label").value_or("");
      l.expr = exprAttr(c, "expr");
      ex.node = std::move(l);
    } else if (n == "assign") {
      ex.node = compileAssign(c, ex.line);
    } else if (n == "foreach") {
      ForeachNode f;
      f.array = exprAttr(c, "array");
      f.item = exprAttr(c, "item");
      f.index = exprAttr(c, "index");
      if (f.array.empty() || f.item.empty()) {
        error(ex.line, "<foreach> must have 'array' and 'item'");
      }
      requireDatamodel("<foreach>", ex.line);
      f.body = std::make_shared<Block>(compileBlock(c, depth + 1));
      ex.node = std::move(f);
    } else {
      return std::nullopt;
    }
    return ex;
  }

  AssignNode compileAssign(xmlNodePtr c, int line) {
    AssignNode a;
    a.location = exprAttr(c, "location");
    if (a.location.empty()) error(line, "<assign> must have a 'location'");
    a.expr = exprAttr(c, "expr");
    bool has_body = hasElementChildren(c) || !trim(textContent(c)).empty();
    if (!a.expr.empty() && has_body) {
      error(line, "<assign> may have an 'expr' or content, not both");
    }
    if (has_body) {
      a.content.present = true;
      a.content.body_is_markup = hasElementChildren(c);
      a.content.body = a.content.body_is_markup ? innerMarkup(c) : trim(textContent(c));
    }
    requireDatamodel("<assign>", line);
    return a;
  }

  Executable compileIf(xmlNodePtr node, std::size_t depth) {
    checkDepth(node, depth);
    Executable ex;
    ex.line = lineOf(node);
    IfNode ifn;
    IfBranch current;
    current.cond = exprAttr(node, "cond");
    if (current.cond.empty()) error(ex.line, "<if> must have a 'cond'");
    checkCondition(current.cond, ex.line);
    bool seen_else = false;
    xmlNodePtr run_start = node->children;
    for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE || !inScxmlNs(c)) continue;
      std::string_view n = nodeName(c);
      if (n != "elseif" && n != "else") continue;
      current.body = compileRange(run_start, c, "if", depth);
      ifn.branches.push_back(std::move(current));
      current = IfBranch{};
      if (seen_else) error(lineOf(c), "<" + std::string(n) + "> after <else>");
      if (n == "elseif") {
        current.cond = exprAttr(c, "cond");
        if (current.cond.empty()) error(lineOf(c), "<elseif> must have a 'cond'");
        checkCondition(current.cond, lineOf(c));
      } else {
        seen_else = true;
      }
      run_start = c->next;
    }
    current.body = compileRange(run_start, nullptr, "if", depth);
    ifn.branches.push_back(std::move(current));
    ex.node = std::move(ifn);
    return ex;
  }

  SendNode compileSend(xmlNodePtr c) {
    SendNode s;
    int line = lineOf(c);
    checkExclusive(c, "event", "eventexpr");
    checkExclusive(c, "target", "targetexpr");
    checkExclusive(c, "type", "typeexpr");
    checkExclusive(c, "id", "idlocation");
    checkExclusive(c, "delay", "delayexpr");
    s.event = attr(c, "event").value_or("");
    s.eventexpr = exprAttr(c, "eventexpr");
    s.target = attr(c, "target").value_or("");
    s.targetexpr = exprAttr(c, "targetexpr");
    s.type = attr(c, "type").value_or("");
    s.typeexpr = exprAttr(c, "typeexpr");
    s.id = attr(c, "id").value_or("");
    s.idlocation = exprAttr(c, "idlocation");
    if (auto d = attr(c, "delay")) {
      auto ms = parseDurationMs(*d);
      if (!ms)
        error(line, "invalid delay '" + *d + "' (expected e.g. 500ms, 2s, 1.5s)");
      else
        s.delay_ms = *ms;
    }
    s.delayexpr = exprAttr(c, "delayexpr");
    for (auto& name : splitTokens(attr(c, "namelist").value_or(""))) {
      s.namelist.push_back(makeExpr(name));
    }
    for (xmlNodePtr k = c->children; k != nullptr; k = k->next) {
      if (k->type != XML_ELEMENT_NODE || !inScxmlNs(k)) continue;
      if (nodeName(k) == "param") {
        s.params.push_back(compileParam(k));
      } else if (nodeName(k) == "content") {
        if (s.content.present) error(lineOf(k), "<send> may have only one <content>");
        s.content = compileContent(k);
      } else {
        unknownElement(k, "send");
      }
    }
    if (s.content.present && (!s.namelist.empty() || !s.params.empty())) {
      error(line, "<send> may not combine <content> with 'namelist' or <param>");
    }
    if (s.event.empty() && s.eventexpr.empty() && !s.content.present && s.type.empty() &&
        s.typeexpr.empty()) {
      error(line, "<send> must have 'event' or 'eventexpr'");
    }
    if ((s.delay_ms >= 0 || !s.delayexpr.empty()) && s.target == "#_internal") {
      error(line, "<send> to #_internal may not have a delay");
    }
    return s;
  }

  // ---- references and structure ----------------------------------------------------------

  std::unordered_map<std::string, StateIndex> buildIdIndex() {
    std::unordered_map<std::string, StateIndex> ids;
    for (StateIndex i = 1; i < data_.states.size(); ++i) {
      const State& s = data_.states[i];
      if (!ids.emplace(s.id, i).second) {
        error(s.line, "duplicate state id '" + s.id + "'");
      }
    }
    return ids;
  }

  void resolveReferences() {
    auto ids = buildIdIndex();
    auto resolve = [&](const PendingTargets& p, const char* what) {
      Transition& t = data_.transitions[p.transition];
      for (const auto& id : p.ids) {
        auto it = ids.find(id);
        if (it == ids.end()) {
          error(p.line, std::string(what) + " '" + id + "' is not a state of this document");
          continue;
        }
        t.targets.push_back(it->second);
      }
    };
    for (const auto& p : pending_targets_) resolve(p, "transition target");
    for (const auto& p : pending_initials_) {
      resolve(p, "initial state");
      const Transition& t = data_.transitions[p.transition];
      for (StateIndex target : t.targets) {
        if (!isDescendantBuilding(target, t.source)) {
          const std::string& owner =
              t.source == kRootState ? std::string("scxml") : data_.states[t.source].id;
          error(p.line, "initial state '" + data_.states[target].id + "' is not a descendant of '" +
                            owner + "'");
        }
      }
      checkOneTargetPerRegion(t, p.line);
    }
    for (const auto& p : pending_history_defaults_) {
      resolve(p, "history default target");
      const Transition& t = data_.transitions[p.transition];
      const State& h = data_.states[t.source];
      for (StateIndex target : t.targets) {
        bool ok = h.history_type == HistoryType::kDeep
                      ? isDescendantBuilding(target, h.parent)
                      : data_.states[target].parent == h.parent &&
                            data_.states[target].kind != StateKind::kHistory;
        if (!ok) {
          error(p.line,
                "history '" + h.id + "' has a bad default: '" + data_.states[target].id +
                    "' is not " +
                    (h.history_type == HistoryType::kDeep ? "a descendant" : "a child state") +
                    " of '" + data_.states[h.parent].id + "'");
        }
      }
    }
  }

  // A default entry may name several states only when they lie in different regions.
  void checkOneTargetPerRegion(const Transition& t, int line) {
    for (std::size_t i = 0; i < t.targets.size(); ++i) {
      for (std::size_t j = i + 1; j < t.targets.size(); ++j) {
        StateIndex a = t.targets[i];
        StateIndex b = t.targets[j];
        if (a == b || isDescendantBuilding(a, b) || isDescendantBuilding(b, a)) {
          error(line, "initial states '" + data_.states[a].id + "' and '" + data_.states[b].id +
                          "' do not form a legal configuration");
        }
      }
    }
  }

  bool isDescendantBuilding(StateIndex a, StateIndex ancestor) const {
    for (StateIndex p = data_.states[a].parent; p != kNoState; p = data_.states[p].parent) {
      if (p == ancestor) return true;
    }
    return false;
  }

  void computeStructure() {
    // Depth and descendant ranges (states are stored in pre-order).
    for (StateIndex i = 0; i < data_.states.size(); ++i) {
      State& s = data_.states[i];
      s.depth = s.parent == kNoState ? 0 : data_.states[s.parent].depth + 1;
      s.last_descendant = i;
      for (StateIndex p = s.parent; p != kNoState; p = data_.states[p].parent) {
        data_.states[p].last_descendant = i;
      }
    }
    for (Transition& t : data_.transitions) {
      for (StateIndex target : t.targets) {
        if (data_.states[target].kind == StateKind::kHistory) t.targets_history = true;
      }
    }
  }

  ParseOptions options_;
  Chart::Data data_;
  std::vector<Diagnostic> errors_;
  std::vector<PendingTargets> pending_targets_;
  std::vector<PendingTargets> pending_initials_;
  std::vector<PendingTargets> pending_history_defaults_;
  std::set<std::string> data_ids_;
  std::uint32_t next_expr_id_ = 1;
  std::size_t element_count_ = 0;
};

// Refuses any DOCTYPE: entity declarations and external subsets never reach the parser.
void refuseDoctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  auto* errors = static_cast<std::vector<Diagnostic>*>(ctxt->_private);
  errors->push_back(Diagnostic{"", xmlSAX2GetLineNumber(ctx),
                               "DOCTYPE declarations are not allowed (no DTDs, no entities)"});
  xmlStopParser(ctxt);
}

void collectXmlError(void* user, xmlErrorPtr err) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(user);
  auto* errors = static_cast<std::vector<Diagnostic>*>(ctxt->_private);
  if (err == nullptr || err->level < XML_ERR_ERROR) return;
  std::string msg = err->message ? trim(err->message) : "XML error";
  if (!errors->empty() && errors->back().message == msg && errors->back().line == err->line) {
    return;
  }
  errors->push_back(Diagnostic{"", err->line, "malformed XML: " + msg});
}

std::string dirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool readLocalReference(std::string_view ref, const std::string& base_dir, std::string* out,
                        std::string* error) {
  std::string path(ref);
  if (path.rfind("file://", 0) == 0) {
    path = path.substr(7);
  } else if (path.rfind("file:", 0) == 0) {
    path = path.substr(5);
  } else if (path.find("://") != std::string::npos) {
    *error = "only local file references are allowed";
    return false;
  }
  if (path.empty()) {
    *error = "empty reference";
    return false;
  }
  if (path[0] != '/') path = base_dir + "/" + path;
  auto text = readFile(path);
  if (!text) {
    *error = text.status().message();
    return false;
  }
  *out = std::move(text).value();
  return true;
}

ParseResult parseString(std::string_view xml, std::string source_name, std::string base_dir,
                        const ParseOptions& options) {
  initLibxml();
  ParseResult result;
  auto fail = [&](int line, std::string message) {
    result.errors.push_back(Diagnostic{source_name, line, std::move(message)});
    return result;
  };
  if (xml.size() > options.max_bytes) {
    return fail(1, "document is " + std::to_string(xml.size()) + " bytes; the limit is " +
                       std::to_string(options.max_bytes));
  }
  if (xml.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail(1, "document too large");
  }

  std::vector<Diagnostic> xml_errors;
  std::unique_ptr<xmlParserCtxt, void (*)(xmlParserCtxtPtr)> ctxt(xmlNewParserCtxt(),
                                                                  xmlFreeParserCtxt);
  if (!ctxt) return fail(1, "out of memory creating the XML parser");
  ctxt->_private = &xml_errors;
  ctxt->sax->internalSubset = refuseDoctype;
  ctxt->sax->serror = collectXmlError;
  ctxt->sax->initialized = XML_SAX2_MAGIC;
  // No NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR/DTDVALID, no network, no XInclude.
  int flags = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING |
              XML_PARSE_NOERROR;
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
      xmlCtxtReadMemory(ctxt.get(), xml.data(), static_cast<int>(xml.size()), source_name.c_str(),
                        nullptr, flags),
      xmlFreeDoc);
  // The structured handler may not be reached for every error; fall back on lastError.
  if (xml_errors.empty() && (!doc || !ctxt->wellFormed)) {
    const xmlError* last = &ctxt->lastError;
    std::string msg = last->message ? trim(last->message) : "document is not well-formed";
    xml_errors.push_back(Diagnostic{"", last->line, "malformed XML: " + msg});
  }
  if (!xml_errors.empty()) {
    for (auto& d : xml_errors) {
      d.file = source_name;
      if (d.line <= 0) d.line = 1;
    }
    result.errors = std::move(xml_errors);
    return result;
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return fail(1, "DOCTYPE declarations are not allowed (no DTDs, no entities)");
  }
  // Entity references survive unexpanded when NOENT is off; refuse them outright.
  for (xmlNodePtr n = xmlDocGetRootElement(doc.get()); n != nullptr;) {
    if (n->type == XML_ENTITY_REF_NODE) {
      return fail(lineOf(n->parent), "entity references are not allowed");
    }
    if (n->children && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      continue;
    }
    while (n && n->next == nullptr) n = n->parent;
    if (n) n = n->next;
  }
  std::vector<Diagnostic> workflow_errors;
  validateVocabularies(doc.get(), source_name, options.vocabularies, workflow_errors);
  Compiler compiler(source_name, std::move(base_dir), options);
  result = compiler.compile(xmlDocGetRootElement(doc.get()));
  if (workflow_errors.empty()) return result;
  // Every problem, SCXML and vocabularies alike, in line order.
  result.chart = nullptr;
  result.errors.insert(result.errors.end(), workflow_errors.begin(), workflow_errors.end());
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  return result;
}

ParseResult parseFile(const std::string& path, const ParseOptions& options) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    ParseResult r;
    r.errors.push_back(Diagnostic{path, 0, "cannot open file"});
    return r;
  }
  auto size = static_cast<std::size_t>(in.tellg());
  if (size > options.max_bytes) {
    ParseResult r;
    r.errors.push_back(Diagnostic{path, 1,
                                  "document is " + std::to_string(size) + " bytes; the limit is " +
                                      std::to_string(options.max_bytes)});
    return r;
  }
  in.seekg(0);
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  return parseString(text, path, dirName(path), options);
}

}  // namespace tramite::scxml
