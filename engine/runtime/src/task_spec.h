// The workflow vocabulary's specs (engine/workflow) under the names the runtime uses.
#pragma once

#include "tramite/workflow/specs.h"

namespace tramite::runtime {

using workflow::Breach;
using workflow::Candidates;
using workflow::chartHasWork;
using workflow::DeadlineSpec;
using workflow::Due;
using workflow::dueOf;
using workflow::Exclusion;
using workflow::FieldSpec;
using workflow::RequirementSpec;
using workflow::SignedBySpec;
using workflow::startInputs;
using workflow::stateWork;
using workflow::StateWork;
using workflow::stringMember;
using workflow::stringsFrom;
using workflow::stringsJson;
using workflow::TaskSpec;
using workflow::transitionRequirements;

}  // namespace tramite::runtime
