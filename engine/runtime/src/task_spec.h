// The workflow vocabulary's specs (engine/workflow) under the names the runtime uses.
#pragma once

#include "tramite/workflow/specs.h"

namespace tramite::runtime {

using workflow::Breach;
using workflow::chartHasWork;
using workflow::DeadlineSpec;
using workflow::Exclusion;
using workflow::FieldSpec;
using workflow::startInputs;
using workflow::stringMember;
using workflow::stringsFrom;
using workflow::stringsJson;
using workflow::TaskSpec;

}  // namespace tramite::runtime
