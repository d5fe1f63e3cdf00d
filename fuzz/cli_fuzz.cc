// libFuzzer target: any bytes as a command line. The input is split at
// newlines into arguments (at most 32) and run through the whole CLI
// (cli::Main: CLI11 parsing of the flags the field tables declare, the
// library's decoding and checks, the run and the text, JSON or CSV printing)
// against the shipped catalog, with stdout and stderr discarded. Every
// outcome must be exit 0 or 2 (bad input): an internal fault (exit 1) is a
// finding, like a crash, a hang or unbounded memory.
//
// Kept out: arguments that name files by path ('/' anywhere: the target
// must not read or write outside its scratch directory), commands that
// serve or write files, and searches over more than 64 devices (bounded, but
// slower than a fuzz iteration should be).
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common.h"
#include "fuzz_support.h"

namespace {

// A stream buffer that swallows everything.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

bool Allowed(const std::vector<std::string>& args) {
  if (args.empty()) return false;
  static const char* const kCommands[] = {"catalog", "infer", "compare", "train", "classify", "validate"};
  bool known = false;
  for (const char* c : kCommands) known = known || args[0] == c;
  if (!known) return false;
  bool search = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.find('/') != std::string::npos || a.rfind("--catalog", 0) == 0 || a.rfind("--timeline", 0) == 0 ||
        a.rfind("--out", 0) == 0) {
      return false;
    }
    search = search || a == "--search";
  }
  if (search) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] != "--devices") continue;
      char* end = nullptr;
      const double n = std::strtod(args[i + 1].c_str(), &end);
      if (!(n <= 64)) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::vector<std::string> args;
  std::string current;
  for (size_t i = 0; i < size; ++i) {
    const char c = char(data[i]);
    if (c == '\n') {
      args.push_back(current);
      current.clear();
      if (args.size() > 32) return 0;
    } else if (c == '\0') {
      return 0;  // argv strings cannot hold a NUL
    } else {
      current += c;
    }
  }
  if (!current.empty()) args.push_back(current);
  if (!Allowed(args)) return 0;

  std::vector<char*> argv;
  std::string name = "suanli";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  static NullBuffer null;
  std::streambuf* out = std::cout.rdbuf(&null);
  std::streambuf* err = std::cerr.rdbuf(&null);
  const int code = suanli::cli::Main(int(argv.size() - 1), argv.data(), &suanli::fuzz::ShippedCatalog());
  std::cout.rdbuf(out);
  std::cerr.rdbuf(err);
  std::cout.clear();
  if (code != 0 && code != 2) std::abort();
  return 0;
}
