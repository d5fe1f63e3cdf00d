// `suanli web`: the local web UI and its JSON API (web/server/).
#include <charconv>
#include <iostream>
#include <optional>

#include "common.h"
#include "server.h"

namespace suanli::cli {
namespace {

// A whole number in [lo, hi] from a flag's text; `fallback` when not given.
std::optional<long> Whole(std::string_view flag, const std::string& text, long fallback, long lo, long hi) {
  if (text.empty()) return fallback;
  long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    std::cerr << "error: " << flag << ": expected a whole number from " << lo << " to " << hi << ", found '"
              << text.substr(0, 40) << "'\n";
    return std::nullopt;
  }
  return v;
}

}  // namespace

int RunWebCommand(const GlobalOptions& global, const WebFlags& flags) {
  web::ServerOptions o;
  const auto port = Whole("--port", flags.port, 8080, 0, 65535);
  const auto workers = Whole("--workers", flags.workers, 4, 1, 256);
  const auto seconds = Whole("--request-seconds", flags.request_seconds, 30, 1, 3600);
  const auto body = Whole("--max-body", flags.max_body, 64 * 1024, 64, 16 << 20);
  if (!port || !workers || !seconds || !body) return 2;
  o.port = int(*port);
  o.workers = int(*workers);
  o.request_seconds = int(*seconds);
  o.max_body = std::size_t(*body);
  if (!flags.listen.empty()) {
    o.host = flags.listen;
    if (o.host != "127.0.0.1" && o.host != "localhost" && o.host != "::1") {
      std::cerr << "warning: --listen " << o.host
                << ": anyone who can reach this address can use the server (it has no authentication)\n";
    }
  }
  o.assets_dir = web::FindAssetsDir(flags.assets);
  if (!flags.assets.empty() && o.assets_dir.empty()) {
    std::cerr << "error: --assets: no index.html in " << flags.assets << '\n';
    return 2;
  }
  o.examples_dir = web::FindExamplesDir();
  auto catalog = LoadWholeCatalog(global);
  if (!catalog) return Fail(catalog.error(), nullptr);
  return web::Serve(**catalog, o, std::cerr);
}

}  // namespace suanli::cli
