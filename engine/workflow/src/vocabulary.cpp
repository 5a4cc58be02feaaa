#include "tramite/workflow/vocabulary.h"

#include <algorithm>

namespace tramite::workflow {

namespace {

constexpr const char kXsd[] =
#include "vocabulary_xsd.inc"
    ;

bool has(const scxml::XmlElement& e, std::string_view name) {
  return e.attribute(name);
}

std::string value(const scxml::XmlElement& e, std::string_view name) {
  const std::string* v = e.attribute(name);
  return v ? *v : std::string();
}

// Rules that cross attributes, for element e and its content.
void checkRules(const scxml::XmlElement& e, std::vector<std::pair<int, std::string>>& out) {
  auto add = [&](const std::string& msg) { out.emplace_back(e.line, msg); };
  const std::string& name = e.name;
  if (name == "deadline") {
    const int units = has(e, "business-days") + has(e, "calendar-days") + has(e, "hours");
    if (units != 1) add("a deadline needs exactly one of business-days, calendar-days or hours");
  } else if (name == "on-breach") {
    if (!has(e, "raise") && !has(e, "escalate-to") && !has(e, "notify")) {
      add("on-breach needs raise, escalate-to or notify");
    }
  } else if (name == "approval") {
    const bool n_of_m = value(e, "rule") == "n-of-m";
    if (n_of_m != has(e, "n")) add(n_of_m ? "rule n-of-m needs n" : "n is only for rule n-of-m");
  } else if (name == "exclude") {
    const bool submitter = value(e, "who") == "submitter";
    if (submitter != has(e, "task")) {
      add(submitter ? "exclude who=\"submitter\" names the task whose submitter it is"
                    : "task is only for who=\"submitter\"");
    }
  } else if (name == "signed-by") {
    if (has(e, "count") && value(e, "rule") == "all") {
      add("signed-by takes count or rule=\"all\", not both");
    }
  } else if (name == "field" || name == "input") {
    const bool user = value(e, "type") == "user";
    if (user != has(e, "roles")) {
      add(user ? "a field of type user names the roles its user must hold (roles)"
               : "roles is only for fields of type user");
    }
  } else if (name == "accepts") {
    if (!has(e, "roles") && value(e, "who") != "requester") {
      add("accepts names who may send the event: roles, or who=\"requester\"");
    }
    const std::string event = value(e, "event");
    for (const char* reserved : {"task", "done", "error"}) {
      const std::string prefix = std::string(reserved) + ".";
      if (event == reserved || event.rfind(prefix, 0) == 0) {
        add("'" + event + "' is raised by the engine itself and cannot be accepted from outside");
      }
    }
  } else if (name == "task" || name == "approver") {
    if (!has(e, "roles") && !has(e, "units") && !has(e, "users")) {
      add(std::string(name == "task" ? "a task" : "an approver") +
          " needs candidates: roles, units or users");
    }
  }
  for (const scxml::XmlElement& c : e.children) {
    if (c.ns == kNamespace) checkRules(c, out);
  }
}

class WorkflowVocabulary final : public scxml::Vocabulary {
 public:
  std::string_view xmlNamespace() const override { return kNamespace; }
  std::string_view label() const override { return "workflow vocabulary"; }
  std::string_view schema() const override { return {kXsd, sizeof kXsd - 1}; }

  std::optional<std::string> misplaced(const scxml::XmlElement& e,
                                       std::string_view parent) const override {
    const bool in_state = parent == "state" || parent == "parallel";
    const bool executable = parent == "onentry" || parent == "onexit" || parent == "transition" ||
                            parent == "if" || parent == "foreach";
    const char* belongs = nullptr;
    if (e.name == "input") {
      if (parent != "scxml") belongs = "directly inside <scxml>";
    } else if (e.name == "accepts") {
      if (!in_state && parent != "scxml") {
        belongs = "directly inside <scxml>, a <state> or a <parallel>";
      }
    } else if (e.name == "task" || e.name == "approval" || e.name == "deadline") {
      if (!in_state) belongs = "directly inside a <state> or <parallel>";
    } else if (e.name == "requires") {
      if (!in_state && parent != "transition") {
        belongs = "directly inside a <state>, <parallel> or <transition>";
      }
    } else if (e.name == "render") {
      if (!executable) belongs = "in executable content (<onentry>, <onexit>, <transition>)";
    } else {
      return "unknown workflow element <" + e.name +
             "> (the vocabulary has input, accepts, task, approval, deadline, requires and "
             "render)";
    }
    if (!belongs) return std::nullopt;
    return "<" + e.name + "> belongs " + belongs;
  }

  void check(const scxml::XmlElement& e,
             std::vector<std::pair<int, std::string>>& problems) const override {
    checkRules(e, problems);
  }
};

}  // namespace

const scxml::Vocabulary& vocabulary() {
  static const WorkflowVocabulary instance;
  return instance;
}

scxml::ParseOptions parseOptions(scxml::ParseOptions options) {
  const scxml::Vocabulary* v = &vocabulary();
  if (std::find(options.vocabularies.begin(), options.vocabularies.end(), v) ==
      options.vocabularies.end()) {
    options.vocabularies.push_back(v);
  }
  return options;
}

}  // namespace tramite::workflow
