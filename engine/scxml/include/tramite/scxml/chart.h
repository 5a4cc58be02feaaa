// The immutable, compiled form of an SCXML document. Built by the parser (parser.h), shared
// read-only by every session that runs it. Thread safety: a Chart is never mutated after
// construction, so any number of threads may read it concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace tramite::scxml {

using StateIndex = std::uint32_t;
inline constexpr StateIndex kNoState = 0xFFFFFFFFu;
inline constexpr StateIndex kRootState = 0;

// An expression or location in the datamodel's language, with a chart-wide number that
// datamodels use to cache compiled code. An empty text means "absent".
struct Expr {
  std::string text;
  std::uint32_t id = 0;
  bool empty() const { return text.empty(); }
};

// A generic element outside the SCXML namespace, kept as-is for later layers
// (our workflow namespace, urn:tramite:workflow:1).
struct XmlElement {
  std::string ns;
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<XmlElement> children;
  std::string text;  // concatenated direct text content, trimmed
  int line = 0;
  // Attribute value or nullptr.
  const std::string* attribute(std::string_view n) const;
};

// <content>: either an expression or an inline body (text, or serialised XML markup).
struct Content {
  bool present = false;
  Expr expr;
  std::string body;
  bool body_is_markup = false;
};

struct Param {
  std::string name;
  Expr expr;
  Expr location;
  int line = 0;
};

struct Executable;
using Block = std::vector<Executable>;

struct RaiseNode {
  std::string event;
};

struct SendNode {
  std::string event;
  Expr eventexpr;
  std::string target;
  Expr targetexpr;
  std::string type;
  Expr typeexpr;
  std::string id;
  Expr idlocation;
  std::int64_t delay_ms = -1;  // -1: no literal delay
  Expr delayexpr;
  std::vector<Expr> namelist;
  std::vector<Param> params;
  Content content;
};

struct CancelNode {
  std::string sendid;
  Expr sendidexpr;
};

struct LogNode {
  std::string label;
  Expr expr;
};

struct AssignNode {
  Expr location;
  Expr expr;
  Content content;  // inline child content used when there is no expr
};

struct IfBranch {
  Expr cond;  // empty for <else>
  Block body;
};

struct IfNode {
  std::vector<IfBranch> branches;
};

struct ForeachNode {
  Expr array;
  Expr item;
  Expr index;
  std::shared_ptr<Block> body;
};

struct ScriptNode {
  Expr source;
};

struct ForeignNode {
  XmlElement element;
};

struct Executable {
  int line = 0;
  std::variant<RaiseNode, SendNode, CancelNode, LogNode, AssignNode, IfNode, ForeachNode,
               ScriptNode, ForeignNode>
      node;
};

struct DataDecl {
  std::string id;
  Expr expr;                // expr attribute, or the inline body / src text as an expression
  std::string src;          // src attribute as written
  bool src_failed = false;  // src could not be read at load time; raises error.execution
  bool inline_markup = false;
  std::string inline_body;  // inline body when it is markup or unparseable text
  int line = 0;
};

struct Invoke {
  std::string type;
  Expr typeexpr;
  std::string src;
  Expr srcexpr;
  std::string id;
  Expr idlocation;
  std::vector<Expr> namelist;
  bool autoforward = false;
  std::vector<Param> params;
  Content content;
  Block finalize;
  int line = 0;
};

struct DoneData {
  bool present = false;
  std::vector<Param> params;
  Content content;
};

enum class StateKind : std::uint8_t { kRoot, kAtomic, kCompound, kParallel, kFinal, kHistory };
enum class HistoryType : std::uint8_t { kShallow, kDeep };
enum class TransitionType : std::uint8_t { kExternal, kInternal };
enum class Binding : std::uint8_t { kEarly, kLate };

struct State {
  std::string id;
  StateKind kind = StateKind::kAtomic;
  HistoryType history_type = HistoryType::kShallow;
  StateIndex parent = kNoState;
  std::vector<StateIndex> children;          // <state>, <parallel>, <final>, document order
  std::vector<StateIndex> history_children;  // <history> children
  std::vector<std::uint32_t> transitions;    // indexes into Chart::transitions(), document order
  std::int32_t initial_transition = -1;      // compound/root: the default entry transition
  std::vector<Block> onentry;                // one block per <onentry> element
  std::vector<Block> onexit;
  std::vector<Invoke> invokes;
  std::vector<DataDecl> data;
  DoneData donedata;
  std::vector<XmlElement> extensions;  // foreign-namespace children, in document order
  std::uint32_t depth = 0;
  StateIndex last_descendant = 0;  // descendants are the indexes (this, last_descendant]
  int line = 0;

  bool isAtomic() const { return kind == StateKind::kAtomic || kind == StateKind::kFinal; }
  bool isCompound() const { return kind == StateKind::kCompound || kind == StateKind::kRoot; }
};

struct Transition {
  StateIndex source = kNoState;
  std::vector<std::string> events;  // normalised descriptors ("foo" for "foo.*"); "*" = any
  Expr cond;
  std::vector<StateIndex> targets;
  TransitionType type = TransitionType::kExternal;
  Block actions;
  bool targets_history = false;
  StateIndex static_domain = kNoState;  // precomputed when no target is a history state
  int line = 0;
  bool isEventless() const { return events.empty(); }
  bool isTargetless() const { return targets.empty(); }
};

class Chart {
 public:
  // Built only by the parser.
  struct Data {
    std::vector<State> states;  // index 0 is the <scxml> root; document order
    std::vector<Transition> transitions;
    std::string name;
    std::string datamodel;  // "null", "lua", ...
    Binding binding = Binding::kEarly;
    Block script;             // top-level <script> elements
    std::string source_name;  // file name (or "<string>") for messages
    std::string base_dir;     // directory that relative src references resolve against
    std::uint32_t expr_count = 0;
    bool uses_event = false;         // some expression mentions _event (or _ENV)
    bool uses_ioprocessors = false;  // some expression mentions _ioprocessors (or _ENV)
  };
  explicit Chart(Data data);
  Chart(const Chart&) = delete;
  Chart& operator=(const Chart&) = delete;

  const std::vector<State>& states() const { return data_.states; }
  const State& state(StateIndex i) const { return data_.states[i]; }
  const std::vector<Transition>& transitions() const { return data_.transitions; }
  const Transition& transition(std::uint32_t i) const { return data_.transitions[i]; }
  const std::string& name() const { return data_.name; }
  const std::string& datamodel() const { return data_.datamodel; }
  Binding binding() const { return data_.binding; }
  const Block& script() const { return data_.script; }
  const std::string& sourceName() const { return data_.source_name; }
  const std::string& baseDir() const { return data_.base_dir; }
  std::uint32_t exprCount() const { return data_.expr_count; }
  // False when no expression can observe _event, so datamodels may skip binding it.
  bool usesEvent() const { return data_.uses_event; }
  // False when no expression can observe _ioprocessors.
  bool usesIoProcessors() const { return data_.uses_ioprocessors; }
  std::size_t stateCount() const { return data_.states.size(); }
  // A number unique to this chart within the process; datamodels key code caches by it.
  std::uint64_t serial() const { return serial_; }

  // State index for an id, or kNoState.
  StateIndex find(std::string_view id) const;
  // True when a is a proper descendant of b.
  bool isDescendant(StateIndex a, StateIndex b) const {
    return a > b && a <= data_.states[b].last_descendant;
  }
  // The transition domain (Appendix D getTransitionDomain) for a source and its effective
  // targets: the source itself for an internal transition that stays inside a compound
  // source, otherwise the least common compound ancestor. kNoState when targets is empty.
  StateIndex transitionDomain(StateIndex source, TransitionType type,
                              const std::vector<StateIndex>& targets) const;
  // Are there any <invoke> elements anywhere (lets runners skip invoke bookkeeping)?
  bool hasInvokes() const { return has_invokes_; }

 private:
  Data data_;
  std::unordered_map<std::string_view, StateIndex> ids_;
  std::uint64_t serial_;
  bool has_invokes_ = false;
};

using ChartPtr = std::shared_ptr<const Chart>;

}  // namespace tramite::scxml
