// Values people give against the fields a process declares: a task's form, or the data a
// case starts with (<w:input>).
#pragma once

#include <string>
#include <vector>

#include "task_spec.h"
#include "tramite/json.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::runtime {

// Every problem of values (a JSON object; null for none) against fields, each naming its
// field: members not declared, required ones missing (or empty), values of the wrong type,
// choices not offered, users who are not active or lack the field's roles, units not in
// the directory. Reads the directory only for user and unit fields. Errors: the store's.
Result<std::vector<std::string>> checkFields(storage::Transaction& tx,
                                             const std::vector<FieldSpec>& fields,
                                             const json::Value& values);

// The unit a case starts for: the value of the chart's first <w:input type="unit"> in data,
// "" when it has none.
std::string startUnit(const scxml::Chart& chart, const json::Value& data);

// A business key fit to name an expediente: 1 to 200 characters, none of them control or
// bidirectional-formatting characters (which could make one key look like another). Errors:
// kInvalidArgument saying what is wrong.
Status checkBusinessKey(const std::string& key);

}  // namespace tramite::runtime
