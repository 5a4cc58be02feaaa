// `tramite serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--daemon]`: the server
// as a Poco::Util::ServerApplication. Configuration is layered: built-in defaults, then
// config/tramite.properties (or --config FILE), then the environment (TRAMITE_LISTEN,
// TRAMITE_DATA_DIR, TRAMITE_STORE, TRAMITE_DEMO_PASSWORD), then command-line options. SIGTERM (or
// SIGINT) stops accepting, drains in-flight requests and exits 0.
#pragma once

namespace tramite::api {

// argv[0] is the program; the "serve" word is already removed. Returns the exit code.
int serveMain(int argc, char** argv);

}  // namespace tramite::api
