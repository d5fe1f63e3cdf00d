// The MILP solver interface on COIN-OR CBC (milp.h). The only file that
// includes COIN-OR headers.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <string>

#include "suanli/econ/milp.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include "CbcEventHandler.hpp"
#include "CbcModel.hpp"
#include "CbcSolver.hpp"
#include "CoinPackedMatrix.hpp"
#include "OsiClpSolverInterface.hpp"
#pragma GCC diagnostic pop

namespace suanli {

int MilpProblem::AddColumn(std::string name, double c, double lo, double hi, bool is_integer) {
  names.push_back(std::move(name));
  objective.push_back(c);
  lower.push_back(lo);
  upper.push_back(hi);
  integer.push_back(is_integer);
  return int(objective.size()) - 1;
}

int MilpProblem::AddRow(MilpRow row) {
  rows.push_back(std::move(row));
  return int(rows.size()) - 1;
}

std::string_view MilpStatusName(MilpStatus s) {
  switch (s) {
    case MilpStatus::kOptimal: return "optimal";
    case MilpStatus::kInfeasible: return "infeasible";
    case MilpStatus::kUnbounded: return "unbounded";
    case MilpStatus::kStopped: return "stopped";
  }
  return "?";
}

namespace {

double Finite(double v, double inf) { return std::isinf(v) ? (v > 0 ? inf : -inf) : v; }

// Loads the problem; without `cuts`, the rows marked as cuts are left out.
// Returns the problem's index of each loaded row.
std::vector<int> Load(OsiClpSolverInterface& si, const MilpProblem& p, bool cuts) {
  const int n = int(p.objective.size());
  CoinPackedMatrix m(false, 0, 0);
  m.setDimensions(0, n);
  std::vector<double> rlo, rhi;
  std::vector<int> loaded;
  const double inf = si.getInfinity();
  for (std::size_t i = 0; i < p.rows.size(); ++i) {
    const MilpRow& r = p.rows[i];
    if (r.cut && !cuts) continue;
    CoinPackedVector v(int(r.columns.size()), r.columns.data(), r.coefficients.data());
    m.appendRow(v);
    rlo.push_back(Finite(r.lo, inf));
    rhi.push_back(Finite(r.hi, inf));
    loaded.push_back(int(i));
  }
  std::vector<double> lo(n), hi(n);
  for (int j = 0; j < n; ++j) {
    lo[j] = Finite(p.lower[j], inf);
    hi[j] = Finite(p.upper[j], inf);
  }
  si.loadProblem(m, lo.data(), hi.data(), p.objective.data(), rlo.data(), rhi.data());
  si.setObjSense(p.maximise ? -1.0 : 1.0);
  for (int j = 0; j < n; ++j) {
    if (p.integer[j]) si.setInteger(j);
  }
  si.messageHandler()->setLogLevel(0);
  si.getModelPtr()->setLogLevel(0);
  return loaded;
}

// Per problem row: the loaded LP's dual, 0 for a row left out.
std::vector<double> Duals(const OsiClpSolverInterface& lp, const std::vector<int>& loaded, std::size_t rows) {
  std::vector<double> out(rows, 0);
  const double* y = lp.getRowPrice();
  for (std::size_t i = 0; i < loaded.size(); ++i) out[std::size_t(loaded[i])] = y[i];
  return out;
}

// Stops CBC's search at the next node (or tree status interval) once the
// caller's flag is set (CbcEventHandler, /usr/include/coin/CbcEventHandler.hpp:
// returning `stop` aborts the run at the next opportunity).
class CancelAtNode : public CbcEventHandler {
 public:
  explicit CancelAtNode(const std::atomic<bool>* cancel) : cancel_(cancel) {}
  using CbcEventHandler::event;
  CbcAction event(CbcEvent which) override {
    const bool at_node = which == CbcEventHandler::node || which == CbcEventHandler::treeStatus;
    return at_node && cancel_->load() ? CbcEventHandler::stop : CbcEventHandler::noAction;
  }
  CbcEventHandler* clone() const override { return new CancelAtNode(*this); }

 private:
  const std::atomic<bool>* cancel_;
};

class CbcSolver final : public MilpSolver {
 public:
  [[nodiscard]] std::string_view name() const override { return "COIN-OR CBC " CBC_VERSION; }

  Result<MilpSolution> Solve(const MilpProblem& p, const MilpOptions& options) override {
    const auto start = std::chrono::steady_clock::now();
    MilpSolution out;
    OsiClpSolverInterface si;
    Load(si, p, true);
    const int ncols = int(p.objective.size());
    if (!p.start.empty()) {
      // A MIP start by column name (CbcModel::setMIPStart): the integer
      // columns' values; CBC fixes them and solves the LP for the rest.
      // Row names too: Clp's presolve expects both or neither.
      for (int j = 0; j < ncols; ++j) si.setColName(j, "c" + std::to_string(j));
      for (int r = 0; r < si.getNumRows(); ++r) si.setRowName(r, "r" + std::to_string(r));
    }
    CbcModel model(si);
    if (!p.start.empty()) {
      // The continuous columns from the LP with the integers fixed at the
      // start's values, so that CBC gets a complete point.
      OsiClpSolverInterface fixed;
      Load(fixed, p, true);
      for (int j = 0; j < ncols; ++j) {
        if (!p.integer[std::size_t(j)]) continue;
        const double v = std::round(p.start[std::size_t(j)]);
        fixed.setContinuous(j);
        fixed.setColBounds(j, v, v);
      }
      fixed.initialSolve();
      if (fixed.isProvenOptimal()) {
        std::vector<std::pair<std::string, double>> mip_start;
        const double* xs = fixed.getColSolution();
        for (int j = 0; j < ncols; ++j) mip_start.emplace_back("c" + std::to_string(j), xs[j]);
        model.setMIPStart(mip_start);
      }
    }
    model.setLogLevel(0);
    model.messageHandler()->setLogLevel(0);
    model.solver()->messageHandler()->setLogLevel(0);
    // CBC's own driver: preprocessing, cut generators and heuristics as the
    // cbc program uses them, silent and without its signal handler.
    CbcSolverUsefulData data;
    data.noPrinting_ = true;
    data.useSignalHandler_ = false;
    CbcMain0(model, data);
    const std::string seconds = std::to_string(options.time_limit_s);
    const std::string gap = std::to_string(options.relative_gap);
    const std::string nodes = std::to_string(options.max_nodes >= 0 ? options.max_nodes : 2147483647LL);
    std::vector<std::string> args = {"suanli", "-log", "0", "-sec", seconds, "-ratioGap", gap, "-maxNodes", nodes};
    if (!options.cut_generators) {
      args.push_back("-cuts");
      args.push_back("off");
    }
    if (!options.heuristics) {
      args.push_back("-heuristicsOnOff");
      args.push_back("off");
    }
    args.push_back("-solve");
    args.push_back("-quit");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    if (options.cancel != nullptr) {
      const CancelAtNode handler(options.cancel);
      model.passInEventHandler(&handler);  // cloned, into the preprocessed model too
    }
    CbcMain1(int(argv.size()), argv.data(), model, [](CbcModel*, int) { return 0; }, data);
    out.nodes = model.getNodeCount();
    out.iterations = model.getIterationCount();
    out.bound = model.getBestPossibleObjValue();
    if (model.isProvenOptimal() && model.bestSolution() != nullptr) {
      out.status = MilpStatus::kOptimal;
      // A search stopped at its gap whose bound met the plan anyway (to
      // 1e-9 of it) proved the plan optimal: say so, not the tolerance.
      const double objective = model.getObjValue();
      const bool closed = objective - out.bound <= 1e-9 * std::max(1.0, std::fabs(objective));
      out.solver_status = options.relative_gap > 0 && !closed
                              ? "stopped within a relative gap of " + std::to_string(options.relative_gap).substr(0, 6)
                              : "proven optimal";
    } else if (model.isProvenInfeasible() || model.isInitialSolveProvenPrimalInfeasible()) {
      out.status = MilpStatus::kInfeasible;
      out.solver_status = "proven infeasible";
    } else if (model.isContinuousUnbounded() || model.isInitialSolveProvenDualInfeasible()) {
      out.status = MilpStatus::kUnbounded;
      out.solver_status = "unbounded";
    } else {
      out.status = MilpStatus::kStopped;
      out.solver_status = "stopped (status " + std::to_string(model.status()) + ", secondary " +
                          std::to_string(model.secondaryStatus()) + ")" +
                          (model.bestSolution() != nullptr
                               ? ", best solution " + std::to_string(model.getObjValue()) + " against a bound of " +
                                     std::to_string(model.getBestPossibleObjValue())
                               : ", no solution") +
                          ", " + std::to_string(model.getNodeCount()) + " nodes";
    }
    if (model.bestSolution() != nullptr && (out.status == MilpStatus::kOptimal || out.status == MilpStatus::kStopped)) {
      const int n = ncols;
      out.has_solution = true;
      out.x.assign(model.bestSolution(), model.bestSolution() + n);
      for (int j = 0; j < n; ++j) {
        if (p.integer[j]) out.x[j] = std::round(out.x[j]);
      }
    }
    if (out.status == MilpStatus::kOptimal && options.pricing_lps) {
      const int n = ncols;
      // Shadow prices: the LP with every integer column fixed at its value.
      OsiClpSolverInterface lp;
      const std::vector<int> lp_rows = Load(lp, p, false);
      for (int j = 0; j < n; ++j) {
        if (p.integer[j]) {
          lp.setContinuous(j);
          lp.setColBounds(j, out.x[j], out.x[j]);
        }
      }
      lp.initialSolve();
      OsiClpSolverInterface relaxed;
      const std::vector<int> relaxed_rows = Load(relaxed, p, false);
      for (int j = 0; j < n; ++j) relaxed.setContinuous(j);
      relaxed.initialSolve();
      if (relaxed.isProvenOptimal()) {
        out.relaxed_duals = Duals(relaxed, relaxed_rows, p.rows.size());
        out.relaxed_objective = relaxed.getObjValue();
        out.relaxed_x.assign(relaxed.getColSolution(), relaxed.getColSolution() + n);
      }
      if (lp.isProvenOptimal()) {
        out.duals = Duals(lp, lp_rows, p.rows.size());
        // Continuous columns from the LP, so that activity and duals agree.
        const double* xs = lp.getColSolution();
        for (int j = 0; j < n; ++j) {
          if (!p.integer[j]) out.x[j] = xs[j];
        }
      }
    }
    if (out.has_solution) {
      out.objective = 0;
      for (int j = 0; j < ncols; ++j) out.objective += p.objective[j] * out.x[j];
      out.activity.assign(p.rows.size(), 0);
      for (std::size_t r = 0; r < p.rows.size(); ++r) {
        for (std::size_t k = 0; k < p.rows[r].columns.size(); ++k) {
          out.activity[r] += p.rows[r].coefficients[k] * out.x[p.rows[r].columns[k]];
        }
      }
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }
};

}  // namespace

std::unique_ptr<MilpSolver> MakeCbcSolver() { return std::make_unique<CbcSolver>(); }

}  // namespace suanli
