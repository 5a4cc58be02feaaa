// The `tramite` subcommands as functions over argument vectors and streams, so tests can
// run them without spawning processes. Each returns the process exit code.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tramite::cli {

// tramite validate FILE...: 0 when every file is valid; otherwise prints each problem as
// FILE:LINE: message on err and returns 1.
int validateCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// tramite simulate FILE [--events ITEMS] [--events-file F] [--data JSON]: runs the document
// on a virtual clock, printing one JSON line after the initial macrostep and one per item.
int simulateCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// tramite calendar due --from DATE (--business-days N | --calendar-days N) [--calendar FILE]:
// prints the due date (first on the line), the weekday, and the days not counted. The
// calendar file defaults to $TRAMITE_CONFIG_DIR/calendar.json, else config/calendar.json.
// Exit 0; 1 when the calendar cannot be read; 2 for bad arguments.
int calendarCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Dispatches argv to a subcommand; prints usage for unknown ones (exit 2).
// `tramite audit verify|checkpoint|keygen ...`: exit 0 when verified, 1 when the ledger
// shows tampering, 2 for bad options or an unreadable store or key.
int auditCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `tramite scenario run FILE... [--data-dir DIR] [--root DIR]`: plays each scenario file; exit
// 0 when every step of every file went as expected, 1 with each failed step printed as
// FILE:LINE: expected ..., got ...; 2 for bad arguments or a file that is not a scenario.
int scenarioCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

int runMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tramite::cli
