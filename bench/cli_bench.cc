// Process start to first JSON result: `suanli infer ... --json` as a user
// runs it (fork, exec, catalog load, estimate, print). Target (DESIGN):
// <= 20 ms. Real time per run, on this machine.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

extern char** environ;

namespace {

void BM_CliInferJson(benchmark::State& state) {
  const char* argv[] = {SUANLI_BENCH_CLI, "infer", "--hardware", "h20", "--model", "llama-3.1-70b", "--input-tokens",
                        "2048", "--output-tokens", "512", "--tp", "8", "--json", nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  for (auto _ : state) {
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, const_cast<char**>(argv), environ) != 0) std::abort();
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::abort();
  }
  posix_spawn_file_actions_destroy(&actions);
}
BENCHMARK(BM_CliInferJson)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
