// What the two compile-time machines (instance lifecycle, task lifecycle) share on top of
// Boost.MSM (internal header).
#pragma once

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace tramite::lifecycle::msm_support {

// Front-end base: an event the transition table has no row for marks the machine rejected
// (an illegal operation is an error value, not an assertion).
template <class Def>
struct RejectingDef : boost::msm::front::state_machine_def<Def> {
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
    rejected = true;
  }
  bool rejected = false;
};

// The back-end id of State in Machine.
template <class Machine, class State>
constexpr int stateId() {
  return boost::msm::back::get_state_id<typename Machine::stt, State>::value;
}

// Processes event; returns whether the transition table accepted it.
template <class Machine, class Event>
bool accept(Machine& m, const Event& event) {
  m.rejected = false;
  m.process_event(event);
  return !m.rejected;
}

}  // namespace tramite::lifecycle::msm_support
