#include "form_check.h"

#include <algorithm>

#include "engine_internal.h"
#include "tramite/text.h"

namespace tramite::runtime {

namespace {

// Why user may not be named in a field of type user: "" when they may.
Result<std::string> unfitUser(storage::Transaction& tx, const std::string& user,
                              const std::vector<std::string>& roles) {
  auto found = internal::activeUser(tx, user);
  if (!found) return found.status();
  if (!found->has_value()) return "'" + user + "' is not an active user of the directory";
  const std::vector<std::string>& held = (*found)->roles;
  if (roles.empty() || std::any_of(roles.begin(), roles.end(), [&](const std::string& r) {
        return std::find(held.begin(), held.end(), r) != held.end();
      })) {
    return std::string();
  }
  return "'" + user + "' does not hold the role " + join(roles, " or ");
}

}  // namespace

Result<std::vector<std::string>> checkFields(storage::Transaction& tx,
                                             const std::vector<FieldSpec>& fields,
                                             const json::Value& values) {
  std::vector<std::string> problems;
  if (!values.isNull() && !values.isObject()) {
    problems.emplace_back("the values must be an object of field values");
    return problems;
  }
  if (values.isObject()) {
    for (const auto& member : values.asObject()) {
      const std::string& name = member.first;
      if (std::none_of(fields.begin(), fields.end(),
                       [&](const FieldSpec& f) { return f.name == name; })) {
        problems.push_back("unknown field '" + name + "'");
      }
    }
  }
  std::optional<storage::DirectoryRecords> directory;  // read once, for unit fields
  for (const FieldSpec& f : fields) {
    const json::Value* v = values.isObject() ? values.find(f.name) : nullptr;
    if (!v || v->isNull() || (v->isString() && v->asString().empty())) {
      if (f.required) problems.push_back("field '" + f.name + "' is required");
      continue;
    }
    bool ok = true;
    if (f.type == "number" || f.type == "money") {
      ok = v->isNumber() && (f.type == "number" || v->asDouble() >= 0);
    } else if (f.type == "boolean") {
      ok = v->isBool();
    } else if (f.type == "date") {
      ok = v->isString() && static_cast<bool>(calendar::Date::parse(v->asString()));
    } else if (f.type == "choice") {
      ok = v->isString() &&
           std::find(f.options.begin(), f.options.end(), v->asString()) != f.options.end();
    } else if (f.type == "user" && v->isString()) {
      auto why = unfitUser(tx, v->asString(), f.roles);
      if (!why) return why.status();
      if (!why->empty()) problems.push_back("field '" + f.name + "': " + *why);
      continue;
    } else if (f.type == "unit" && v->isString()) {
      if (!directory) {
        auto read = tx.directory();
        if (!read) return read.status();
        directory = std::move(read).value();
      }
      const std::string& id = v->asString();
      if (std::none_of(directory->units.begin(), directory->units.end(),
                       [&](const storage::UnitRecord& u) { return u.id == id; })) {
        problems.push_back("field '" + f.name + "': no unit '" + id + "' in the directory");
      }
      continue;
    } else {
      ok = v->isString();
    }
    if (!ok) problems.push_back("field '" + f.name + "' must be a " + f.type + " value");
  }
  return problems;
}

std::string startUnit(const scxml::Chart& chart, const json::Value& data) {
  if (!data.isObject()) return {};
  for (const FieldSpec& f : startInputs(chart)) {
    if (f.type != "unit") continue;
    const json::Value* v = data.find(f.name);
    return v && v->isString() ? v->asString() : std::string();
  }
  return {};
}

Status checkBusinessKey(const std::string& key) {
  if (key.empty() || key.size() > 200) {
    return Status(ErrorCode::kInvalidArgument, "a business key has 1 to 200 characters");
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f) {
      return Status(ErrorCode::kInvalidArgument,
                    "a business key has no control characters (byte " + std::to_string(i) + ")");
    }
    // U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069 in UTF-8.
    const auto next = [&](std::size_t k) {
      return i + k < key.size() ? static_cast<unsigned char>(key[i + k]) : 0;
    };
    const bool alm = c == 0xD8 && next(1) == 0x9C;
    const bool marks = c == 0xE2 && next(1) == 0x80 &&
                       (next(2) == 0x8E || next(2) == 0x8F || (next(2) >= 0xAA && next(2) <= 0xAE));
    const bool isolates = c == 0xE2 && next(1) == 0x81 && next(2) >= 0xA6 && next(2) <= 0xA9;
    if (alm || marks || isolates) {
      return Status(ErrorCode::kInvalidArgument,
                    "a business key has no bidirectional formatting characters (byte " +
                        std::to_string(i) + ")");
    }
  }
  return Status::ok();
}

}  // namespace tramite::runtime
