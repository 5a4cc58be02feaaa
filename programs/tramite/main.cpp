#include <cstring>
#include <iostream>

#include "commands.h"
#include "tramite/api/api.h"
#include "tramite/api/serve.h"

int main(int argc, char** argv) {
  // `serve` is a Poco ServerApplication that parses its own options (and may daemonize).
  if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) {
    argv[1] = argv[0];
    return tramite::api::serveMain(argc - 1, argv + 1);
  }
  // `openapi` prints what GET /api/v1/openapi.json serves, for client generators and linters.
  if (argc == 2 && std::strcmp(argv[1], "openapi") == 0) {
    std::cout << tramite::api::Api::openApiDocument() << "\n";
    return 0;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  return tramite::cli::runMain(args, std::cout, std::cerr);
}
