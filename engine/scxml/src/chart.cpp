#include "tramite/scxml/chart.h"

#include <algorithm>
#include <atomic>

namespace tramite::scxml {

namespace {
std::atomic<std::uint64_t> g_chart_serial{1};
}  // namespace

const std::string* XmlElement::attribute(std::string_view n) const {
  for (const auto& [k, v] : attributes) {
    if (k == n) return &v;
  }
  return nullptr;
}

Chart::Chart(Data data) : data_(std::move(data)), serial_(g_chart_serial.fetch_add(1)) {
  for (StateIndex i = 1; i < data_.states.size(); ++i) {
    ids_.emplace(data_.states[i].id, i);
    if (!data_.states[i].invokes.empty()) has_invokes_ = true;
  }
  for (Transition& t : data_.transitions) {
    if (!t.targets_history && !t.targets.empty()) {
      t.static_domain = transitionDomain(t.source, t.type, t.targets);
    }
  }
}

StateIndex Chart::find(std::string_view id) const {
  auto it = ids_.find(id);
  return it == ids_.end() ? kNoState : it->second;
}

StateIndex Chart::transitionDomain(StateIndex source, TransitionType type,
                                   const std::vector<StateIndex>& targets) const {
  if (targets.empty()) return kNoState;
  if (source == kRootState) return kRootState;
  auto allBelow = [&](StateIndex anc) {
    return std::all_of(targets.begin(), targets.end(),
                       [&](StateIndex t) { return isDescendant(t, anc); });
  };
  if (type == TransitionType::kInternal && state(source).kind == StateKind::kCompound &&
      allBelow(source)) {
    return source;
  }
  // findLCCA: the nearest compound (or root) proper ancestor of source containing all targets.
  for (StateIndex anc = state(source).parent; anc != kNoState; anc = state(anc).parent) {
    if (state(anc).isCompound() && allBelow(anc)) return anc;
  }
  return kRootState;
}

}  // namespace tramite::scxml
