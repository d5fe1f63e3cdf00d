// A small mixed-integer linear program and the solver interface the fleet
// planner uses, so that another solver (HiGHS, from Debian 13) can be added
// beside COIN-OR CBC without touching the planner.
//
//   minimise or maximise  c'x   subject to  lo_r <= a_r'x <= hi_r,  lb <= x <= ub,  x_j integer for j in I
//
// After the MILP, the solver fixes the integer columns at their values and
// solves the remaining LP once more (`duals`: the change of the objective per
// unit of a row's bound with the integer decisions held), and gives the duals
// of the LP relaxation too (`relaxed_duals`: the marginal value of a bound
// when the decisions may move continuously). Solvers are not shared
// between threads; a MilpProblem is plain data.
#pragma once

#include <atomic>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "suanli/core/result.h"

namespace suanli {

inline constexpr double kMilpInfinity = std::numeric_limits<double>::infinity();

struct MilpRow {
  std::string name;
  std::vector<int> columns;
  std::vector<double> coefficients;
  double lo = -kMilpInfinity;
  double hi = kMilpInfinity;
  // A row added to help the search, not part of the model as written (a
  // valid inequality, or an optimality cut that every solution at least as
  // good as the start satisfies): the MILP uses it, the two pricing LPs
  // (fix-and-resolve and the relaxation) leave it out, so that the duals,
  // `relaxed_objective` and `relaxed_x` are those of the model as written.
  // Its duals read 0.
  bool cut = false;
};

struct MilpProblem {
  bool maximise = false;
  std::vector<std::string> names;  // per column
  std::vector<double> objective, lower, upper;
  std::vector<bool> integer;
  std::vector<MilpRow> rows;
  // A feasible point handed to the solver as its first incumbent (CBC's MIP
  // start; only the integer columns' values are used, the solver completes
  // the rest); empty: none.
  std::vector<double> start;

  int AddColumn(std::string name, double objective_coefficient, double lo, double hi, bool is_integer);
  int AddRow(MilpRow row);
};

enum class MilpStatus { kOptimal, kInfeasible, kUnbounded, kStopped };
std::string_view MilpStatusName(MilpStatus s);

struct MilpSolution {
  MilpStatus status = MilpStatus::kStopped;
  std::string solver_status;      // the solver's own words
  double objective = 0;
  std::vector<double> x;          // per column
  std::vector<double> activity;   // per row: a_r'x
  std::vector<double> duals;      // per row, from the LP with the integers fixed (empty if it failed)
  std::vector<double> relaxed_duals;  // per row, from the LP relaxation (integers continuous; empty if it failed)
  double relaxed_objective = 0;       // the LP relaxation's optimum (0 if it failed)
  std::vector<double> relaxed_x;      // the LP relaxation's columns (empty if it failed)
  double bound = 0;          // the best bound the solver proved on the optimum (also when stopped)
  bool has_solution = false;  // an incumbent exists (x holds it when stopped too)
  double seconds = 0;
  long long nodes = 0;       // branch-and-bound nodes
  long long iterations = 0;  // simplex iterations of the search
};

struct MilpOptions {
  double time_limit_s = 60;
  double relative_gap = 1e-3;  // stop when the incumbent is proven within this fraction of the best bound (0: exact)
  bool cut_generators = true;  // the solver's cut generators at the nodes (CBC: off is `-cuts off`)
  bool heuristics = true;      // the solver's primal heuristics (CBC: off is `-heuristicsOnOff off`)
  bool pricing_lps = true;      // solve the two pricing LPs (duals, relaxed_*) after an optimal MILP
  long long max_nodes = -1;    // stop after this many branch-and-bound nodes (-1: no limit); a stop is status kStopped
  // Once set, the search stops at its next node (status kStopped, with the
  // incumbent if any): the web server's time limit reaches into a solve.
  const std::atomic<bool>* cancel = nullptr;
};

class MilpSolver {
 public:
  virtual ~MilpSolver() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // An error only when the solver itself fails; infeasible and stopped are statuses.
  virtual Result<MilpSolution> Solve(const MilpProblem& problem, const MilpOptions& options) = 0;
};

// COIN-OR CBC 2.10 (with Clp for the LPs) through its own driver (CbcMain1:
// preprocessing, cuts, heuristics), silent.
std::unique_ptr<MilpSolver> MakeCbcSolver();

}  // namespace suanli
