// The HTTP server: cpp-httplib (Debian libcpp-httplib-dev) around HandleApi.
#include "server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "http_api.h"

#ifndef SUANLI_BUILD_WEB_DIR
#define SUANLI_BUILD_WEB_DIR ""
#endif
#ifndef SUANLI_SOURCE_EXAMPLES_DIR
#define SUANLI_SOURCE_EXAMPLES_DIR ""
#endif

namespace suanli::web {
namespace {

namespace fs = std::filesystem;

struct Asset {
  std::string type;
  std::string body;
};

std::string TypeOf(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

// Every file under `dir`, read once (at most 64 MiB in all), by URL path.
std::map<std::string, Asset, std::less<>> ReadAssets(const std::string& dir, std::ostream& log) {
  std::map<std::string, Asset, std::less<>> out;
  if (dir.empty()) return out;
  std::size_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    total += ss.str().size();
    if (total > (64u << 20)) {
      log << "warning: the assets in " << dir << " pass 64 MiB; the rest are not served\n";
      break;
    }
    const std::string url = "/" + fs::relative(entry.path(), dir).generic_string();
    out[url] = Asset{TypeOf(entry.path()), ss.str()};
  }
  if (auto it = out.find("/index.html"); it != out.end()) out["/"] = it->second;
  return out;
}

// Sets each request's cancel flag when its time is up; one thread for all.
class Watchdog {
 public:
  Watchdog() : thread_([this] { Loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  using Clock = std::chrono::steady_clock;
  std::multimap<Clock::time_point, std::atomic<bool>*>::iterator Watch(std::atomic<bool>* flag, int seconds) {
    std::lock_guard lock(m_);
    auto it = due_.emplace(Clock::now() + std::chrono::seconds(seconds), flag);
    cv_.notify_all();
    return it;
  }
  void Forget(std::multimap<Clock::time_point, std::atomic<bool>*>::iterator it) {
    std::lock_guard lock(m_);
    due_.erase(it);
  }

 private:
  void Loop() {
    std::unique_lock lock(m_);
    while (!stop_) {
      if (due_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const auto first = due_.begin()->first;
      if (Clock::now() >= first) {
        for (auto it = due_.begin(); it != due_.end() && it->first <= Clock::now(); ++it) it->second->store(true);
        cv_.wait_for(lock, std::chrono::milliseconds(100));
      } else {
        cv_.wait_until(lock, first);
      }
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, std::atomic<bool>*> due_;
  bool stop_ = false;
  std::thread thread_;
};

bool Loopback(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1"; }

void Secure(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

fs::path ProgramDir() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path();
}

}  // namespace

std::string FindAssetsDir(const std::string& explicit_dir) {
  auto has_index = [](const fs::path& d) {
    std::error_code ec;
    return fs::is_regular_file(d / "index.html", ec);
  };
  if (!explicit_dir.empty()) return has_index(explicit_dir) ? explicit_dir : "";
  const fs::path installed = ProgramDir() / "../share/suanli/web";
  if (has_index(installed)) return fs::weakly_canonical(installed).string();
  const std::string built = SUANLI_BUILD_WEB_DIR;
  if (!built.empty() && has_index(built)) return built;
  return "";
}

std::string FindExamplesDir() {
  std::error_code ec;
  const fs::path installed = ProgramDir() / "../share/suanli/examples";
  if (fs::is_directory(installed / "fleet", ec)) return fs::weakly_canonical(installed).string();
  const std::string source = SUANLI_SOURCE_EXAMPLES_DIR;
  if (!source.empty() && fs::is_directory(fs::path(source) / "fleet", ec)) return source;
  return "";
}

int Serve(const Catalog& catalog, const ServerOptions& o, std::ostream& log) {
  const auto assets = ReadAssets(o.assets_dir, log);
  const Examples examples = LoadExamples(catalog, o.examples_dir);
  Watchdog watchdog;
  httplib::Server server;
  const std::size_t workers = std::size_t(std::max(1, o.workers));
  server.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  server.set_payload_max_length(o.max_body);
  server.set_read_timeout(5);
  server.set_write_timeout(5);
  server.set_keep_alive_timeout(5);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which lets a
  // second server share a port that is in use instead of failing.
  socket_t listening = INVALID_SOCKET;
  server.set_socket_options([&listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listening = sock;
  });

  // Bound to the loopback: only a Host naming it (a page of another site that
  // rebinds its name to 127.0.0.1 sends its own name).
  const bool loopback = Loopback(o.host);
  server.set_pre_routing_handler([loopback](const httplib::Request& req, httplib::Response& res) {
    Secure(res);
    if (!loopback) return httplib::Server::HandlerResponse::Unhandled;
    const std::string host = req.get_header_value("Host");
    const std::string name = host.substr(0, host.rfind(':'));
    if (name == "127.0.0.1" || name == "localhost" || name == "[::1]") return httplib::Server::HandlerResponse::Unhandled;
    res.status = 403;
    res.set_content(R"({"error":"unexpected Host header: this server answers 127.0.0.1 and localhost only","kind":"invalid_input"})",
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  auto api = [&catalog, &watchdog, &o, &examples](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST" && !req.get_header_value("Content-Type").starts_with("application/json")) {
      res.status = 415;
      res.set_content(R"({"error":"send the request as Content-Type: application/json","kind":"invalid_input"})",
                      "application/json");
      return;
    }
    std::atomic<bool> cancel{false};
    auto watched = watchdog.Watch(&cancel, o.request_seconds);
    const std::string form = req.get_param_value("form");
    HttpReply reply = HandleApi(catalog, {.method = req.method, .path = req.path, .form = form, .body = req.body,
                                          .cancel = &cancel, .examples = &examples, .max_body = o.max_body});
    watchdog.Forget(watched);
    res.status = reply.status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::move(reply.body), reply.content_type.c_str());
  };
  server.Get("/api/.*", api);
  server.Post("/api/.*", api);
  server.Get(".*", [&assets](const httplib::Request& req, httplib::Response& res) {
    auto it = assets.find(req.path);
    if (it == assets.end()) {
      res.status = 404;
      if (req.path == "/") {
        res.set_content("<!doctype html><title>suanli</title><p>The web app's assets were not built: run "
                        "scripts/build-web (npm), or use the JSON API under /api/.",
                        "text/html; charset=utf-8");
      } else {
        res.set_content("not found", "text/plain");
      }
      return;
    }
    res.set_content(it->second.body, it->second.type.c_str());
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(nlohmann::json{{"error", "internal error: " + what}, {"kind", "internal"}}.dump(), "application/json");
  });

  int port = o.port;
  if (port == 0) {
    port = server.bind_to_any_port(o.host);
    if (port < 0) {
      log << "error: --listen: cannot listen on " << o.host << '\n';
      return 2;
    }
  } else if (!server.bind_to_port(o.host, port)) {
    log << "error: --port: cannot listen on " << o.host << ':' << port << " (in use, or not an address of this machine)\n";
    return 2;
  }
  // Debian's libcpp-httplib listens with a backlog of 5: more clients than
  // that connecting at once would be dropped by the kernel and time out.
  // Listening again on the bound socket raises it (Linux).
  if (listening != INVALID_SOCKET) ::listen(listening, 1024);
  const std::string shown = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  log << "suanli web: listening on http://" << shown << ':' << port << "/ (" << workers << " workers"
      << (assets.empty() ? "; no web assets found, the JSON API only" : "") << "; " << examples.fleet.size()
      << " fleet examples)" << std::endl;
  if (o.on_listen) o.on_listen(port, [&server] { server.stop(); });
  if (!server.listen_after_bind()) return 1;
  return 0;
}

}  // namespace suanli::web
