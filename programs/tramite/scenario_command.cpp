// `tramite scenario run`: process scenarios from the command line (and from CTest).
#include <ostream>

#include "commands.h"
#include "tramite/scenario/scenario.h"

namespace tramite::cli {

int scenarioCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& why) {
    err << "tramite scenario: " << why
        << "\nusage: tramite scenario run FILE... [--data-dir DIR] [--root DIR]\n";
    return 2;
  };
  if (args.empty() || args[0] != "run") return usage("the only subcommand is 'run'");
  scenario::ScenarioOptions options;
  std::vector<std::string> files;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--data-dir" || a == "--root") {
      if (i + 1 >= args.size()) return usage("option " + a + " needs a value");
      (a == "--data-dir" ? options.data_dir : options.root) = args[++i];
    } else if (a.rfind("--", 0) == 0) {
      return usage("unknown option " + a);
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return usage("give one or more scenario files");
  int failed = 0;
  for (const std::string& file : files) {
    auto result = scenario::runScenarioFile(file, options);
    if (!result) {
      err << result.status().message() << "\n";
      return 2;
    }
    for (const scenario::ScenarioFailure& f : result->failures) err << f.toString() << "\n";
    out << file << ": " << result->steps << " steps, "
        << (result->ok() ? std::string("as expected")
                         : std::to_string(result->failures.size()) + " failed")
        << "\n";
    failed += result->ok() ? 0 : 1;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace tramite::cli
