// The MILP solver interface on COIN-OR CBC (milp.h). The only file that
// includes COIN-OR headers.
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

void Load(OsiClpSolverInterface& si, const MilpProblem& p) {
  const int n = int(p.objective.size());
  CoinPackedMatrix m(false, 0, 0);
  m.setDimensions(0, n);
  std::vector<double> rlo, rhi;
  const double inf = si.getInfinity();
  for (const MilpRow& r : p.rows) {
    CoinPackedVector v(int(r.columns.size()), r.columns.data(), r.coefficients.data());
    m.appendRow(v);
    rlo.push_back(Finite(r.lo, inf));
    rhi.push_back(Finite(r.hi, inf));
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
}

class CbcSolver final : public MilpSolver {
 public:
  [[nodiscard]] std::string_view name() const override { return "COIN-OR CBC " CBC_VERSION; }

  Result<MilpSolution> Solve(const MilpProblem& p, const MilpOptions& options) override {
    const auto start = std::chrono::steady_clock::now();
    MilpSolution out;
    OsiClpSolverInterface si;
    Load(si, p);
    CbcModel model(si);
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
    const char* argv[] = {"suanli", "-log", "0", "-sec", seconds.c_str(), "-ratioGap", gap.c_str(), "-solve", "-quit"};
    CbcMain1(int(std::size(argv)), argv, model, [](CbcModel*, int) { return 0; }, data);
    out.nodes = model.getNodeCount();
    out.iterations = model.getIterationCount();
    out.bound = model.getBestPossibleObjValue();
    if (model.isProvenOptimal() && model.bestSolution() != nullptr) {
      out.status = MilpStatus::kOptimal;
      out.solver_status = options.relative_gap > 0 ? "optimal within a relative gap of " + std::to_string(options.relative_gap).substr(0, 6) : "proven optimal";
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
    if (out.status == MilpStatus::kOptimal) {
      const int n = int(p.objective.size());
      out.x.assign(model.bestSolution(), model.bestSolution() + n);
      for (int j = 0; j < n; ++j) {
        if (p.integer[j]) out.x[j] = std::round(out.x[j]);
      }
      // Shadow prices: the LP with every integer column fixed at its value.
      OsiClpSolverInterface lp;
      Load(lp, p);
      for (int j = 0; j < n; ++j) {
        if (p.integer[j]) {
          lp.setContinuous(j);
          lp.setColBounds(j, out.x[j], out.x[j]);
        }
      }
      lp.initialSolve();
      OsiClpSolverInterface relaxed;
      Load(relaxed, p);
      for (int j = 0; j < n; ++j) relaxed.setContinuous(j);
      relaxed.initialSolve();
      if (relaxed.isProvenOptimal()) {
        const double* y = relaxed.getRowPrice();
        out.relaxed_duals.assign(y, y + p.rows.size());
        out.relaxed_objective = relaxed.getObjValue();
        out.relaxed_x.assign(relaxed.getColSolution(), relaxed.getColSolution() + n);
      }
      if (lp.isProvenOptimal()) {
        const double* y = lp.getRowPrice();
        out.duals.assign(y, y + p.rows.size());
        // Continuous columns from the LP, so that activity and duals agree.
        const double* xs = lp.getColSolution();
        for (int j = 0; j < n; ++j) {
          if (!p.integer[j]) out.x[j] = xs[j];
        }
      }
      out.objective = 0;
      for (int j = 0; j < n; ++j) out.objective += p.objective[j] * out.x[j];
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
