// `suanli web`: the JSON API (http_api.h) and the app's static assets over
// HTTP, in this process. Secure by default: 127.0.0.1 only, bounded bodies,
// time and workers, no CORS, no file read because of a request (the assets
// are read once at start).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include "suanli/catalog/catalog.h"

namespace suanli::web {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port (printed)
  int workers = 4;               // requests evaluated at once
  std::size_t max_body = 64 * 1024;
  int request_seconds = 30;      // a search still running then is stopped (503)
  std::string assets_dir;        // empty: installed beside the binary, else the build tree's
  std::string examples_dir;      // the shipped examples fleet names by id (FindExamplesDir)
  // Called once listening, with the port and a function that stops the
  // server (Serve then returns 0): for tests and benchmarks in-process.
  std::function<void(int port, std::function<void()> stop)> on_listen;
};

// The assets directory: `explicit_dir`, else <bin>/../share/suanli/web, else
// the build tree's; "" when none holds index.html.
std::string FindAssetsDir(const std::string& explicit_dir);

// The shipped examples: <bin>/../share/suanli/examples when installed, else
// the source tree's examples/; "" when neither holds fleet/.
std::string FindExamplesDir();

// Serves until the process is stopped. `ready` gets the "listening on" line.
// Returns the exit code (2 when the port cannot be bound).
int Serve(const Catalog& catalog, const ServerOptions& options, std::ostream& log);

}  // namespace suanli::web
