// Process scenarios: a case of a shipped workflow played step by step from a YAML file (start
// it, act on its tasks as named users, attach documents, move a manual clock by hours or
// business days) with expectations on its states, data, tasks, queues, due dates,
// notifications and history. The format is in workflows/scenarios/README.md.
#pragma once

#include <string>
#include <vector>

#include "tramite/status.h"

namespace tramite::scenario {

struct ScenarioOptions {
  // Where workflows/, config/ (directory.json, calendar.json) and templates/ are.
  std::string root = ".";
  // Keep the store there (DIR/tramite.db, shared by every file of a run); "" for a throwaway
  // store per file.
  std::string data_dir;
};

// One failed step: where, and "expected ..., got ...".
struct ScenarioFailure {
  std::string file;
  int line = 0;
  std::string message;

  std::string toString() const { return file + ":" + std::to_string(line) + ": " + message; }
};

struct ScenarioResult {
  std::string file;
  int steps = 0;  // steps run
  std::vector<ScenarioFailure> failures;
  bool ok() const { return failures.empty(); }
};

// Runs one scenario file. An action that fails unexpectedly is a failure and ends the
// scenario (what follows would not mean anything); a failed expectation is a failure and the
// scenario goes on. Errors (not failures): kInvalidArgument for a file that is not a
// scenario (FILE:LINE: why), kUnavailable/kInternal for the store.
Result<ScenarioResult> runScenarioFile(const std::string& path, const ScenarioOptions& options);

}  // namespace tramite::scenario
