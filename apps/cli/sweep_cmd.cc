// `suanli sweep`: runs the Python module's sweep (python/suanli/sweep.py) on
// Debian's python3, with the module this binary was built or installed with
// on its path; the sweep's requests go through the same library.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "common.h"

#ifndef SUANLI_BUILD_PYTHON_DIR
#define SUANLI_BUILD_PYTHON_DIR ""
#endif

namespace suanli::cli {

int RunSweepCommand(const GlobalOptions& global, const SweepFlags& flags) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path bin = fs::read_symlink("/proc/self/exe", ec).parent_path();
  std::string module_dir;
  for (const fs::path& d : {bin / "../lib/python3/dist-packages", fs::path(SUANLI_BUILD_PYTHON_DIR)}) {
    if (!d.empty() && fs::is_regular_file(d / "suanli" / "sweep.py", ec)) {
      module_dir = fs::weakly_canonical(d, ec).string();
      break;
    }
  }
  if (module_dir.empty()) {
    std::cerr << "error: sweep needs the Python module (build with pybind11-dev installed, or install it)\n";
    return 2;
  }
  const char* old = std::getenv("PYTHONPATH");
  const std::string path = module_dir + (old != nullptr && *old != '\0' ? ":" + std::string(old) : "");
  setenv("PYTHONPATH", path.c_str(), 1);
  if (!global.catalog_dir.empty()) setenv("SUANLI_CATALOG", global.catalog_dir.c_str(), 1);
  std::vector<std::string> args = {"python3", "-m", "suanli.sweep", flags.file, "--out", flags.out};
  if (!flags.scheduler.empty()) args.insert(args.end(), {"--scheduler", flags.scheduler});
  if (flags.resume) args.emplace_back("--resume");
  if (!flags.threads.empty()) args.insert(args.end(), {"--threads", flags.threads});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  execv("/usr/bin/python3", argv.data());
  std::cerr << "internal error: cannot run /usr/bin/python3 for the sweep\n";
  return 1;
}

}  // namespace suanli::cli
