// The `suanli._suanli` extension: the library's front-end surface (api/run.h,
// api/fields.h, Catalog::FindRecord) for the Python package in
// python/suanli/. It only translates: keyword values arrive as text (Args),
// every command runs through RunCommand, and results leave as the --json
// text. Evaluation runs with the GIL released; a training search watches a
// flag that Ctrl-C sets.
// GCC 12 reports false -Wnull-dereference inside pybind11's and libstdc++'s
// headers at -O2 (as for CLI11 in apps/cli/cli_main.cc).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "suanli/api/chip_scope.h"
#include "suanli/api/commands.h"
#include "suanli/api/run.h"
#include "suanli/catalog/what_if.h"
#include "suanli/catalog/schema.h"
#include "suanli/infer/iteration.h"
#include "suanli/report/csv.h"
#include "suanli/report/json.h"
#include "suanli/train/train.h"

namespace py = pybind11;
using namespace suanli;

namespace {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// What a call returns to Python: (kind, text, key). kind 0: `text` is the
// result; 1 bad input, 2 not found, 3 internal fault: `text` is the message
// (fields named by their keys) and `key` the first diagnostic's key path.
using Outcome = std::tuple<int, std::string, std::string>;

// A command's result text, owned here: RunCommand's string is moved in, not
// copied, and becomes a Python str only when one is asked for (str(),
// Result.to_json/to_dict), so a caller that keeps the result unread, or a
// sweep that reads a few numbers, pays no copy of the whole --json text.
struct ResultText {
  std::string text;
};

// The package's InputError and NotFoundError (python/suanli/__init__.py
// hands them over at import): errors are raised here, and a call that
// succeeds returns its ResultText and nothing else.
PyObject* g_input_error = nullptr;
PyObject* g_not_found_error = nullptr;

// The error of `o` (kind != 0) as a Python exception object, not raised.
py::object ExceptionOf(const Outcome& o) {
  const auto& [kind, text, key] = o;
  if (kind == 3 || g_input_error == nullptr) {
    return py::reinterpret_borrow<py::object>(PyExc_RuntimeError)("internal error: " + text);
  }
  return py::reinterpret_borrow<py::object>(kind == 2 ? g_not_found_error : g_input_error)(text, key);
}

[[noreturn]] void Raise(const Outcome& o) {
  py::object e = ExceptionOf(o);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(e.ptr())), e.ptr());
  throw py::error_already_set();
}

Outcome FromError(const Error& e, std::string_view command) {
  const CommandSpec* spec = FindCommand(command);
  static const CommandSpec kNone{};
  const int kind = e.kind == ErrorKind::kInternal ? 3 : e.kind == ErrorKind::kNotFound ? 2 : 1;
  std::string key = e.diagnostics.empty() ? "" : e.diagnostics.front().key_path;
  return {kind, FormatError(e, spec != nullptr ? *spec : kNone, FieldNaming::kKey), std::move(key)};
}

Outcome FromResult(Result<std::string> r, std::string_view command) {
  if (!r) return FromError(r.error(), command);
  return {0, std::move(*r), ""};
}

Args ToArgs(const KeyValues& kv) {
  Args args;
  for (const auto& [k, v] : kv) args.Set(k, v);
  return args;
}

struct PyCatalog {
  std::shared_ptr<const Catalog> catalog;
};

// A keyword's value as the text a flag would carry: True/False as
// true/false, numbers as Python writes them (repr: the shortest that reads
// back), lists and tuples comma-joined; None is left out by the caller.
std::string Text(PyObject* v) {
  if (v == Py_True) return "true";
  if (v == Py_False) return "false";
  if (PyUnicode_Check(v)) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(v, &n);
    if (s == nullptr) throw py::error_already_set();
    return std::string(s, std::size_t(n));
  }
  if (PyList_Check(v) || PyTuple_Check(v)) {
    std::string out;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
    PyObject** items = PySequence_Fast_ITEMS(v);
    for (Py_ssize_t i = 0; i < n; ++i) out += (i ? "," : "") + Text(items[i]);
    return out;
  }
  if (PyLong_CheckExact(v)) {
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow == 0 && !(x == -1 && PyErr_Occurred())) return std::to_string(x);
    PyErr_Clear();
  }
  py::object text = py::reinterpret_steal<py::object>(PyFloat_Check(v) ? PyObject_Repr(v) : PyObject_Str(v));
  if (!text) throw py::error_already_set();
  return Text(text.ptr());
}

// A dict of keyword values as Args (None left out), read once: no second copy.
Args FromDict(PyObject* fields) {
  Args args;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t pos = 0;
  while (PyDict_Next(fields, &pos, &key, &value)) {
    if (value == Py_None) continue;
    args.Set(Text(key), Text(value));
  }
  return args;
}

Result<std::string> RunArgs(const PyCatalog& pc, std::string_view command, const Args& args, bool csv) {
  const ResultForm form = csv ? ResultForm::kCsv : ResultForm::kJson;
  // The commands that can run long and poll a cancel flag (api/run.h): a
  // training search and a serving simulation.
  const auto search_flag = command == "train" ? args.Get("search") : std::nullopt;
  const bool long_running = command == "serve" || (search_flag && *search_flag == "true");
  if (!long_running) {
    py::gil_scoped_release release;
    return RunCommand(*pc.catalog, command, args, form);
  }
  // It runs on a second thread; this one wakes every 50 ms to let Python see
  // a pending KeyboardInterrupt, and then tells it to stop.
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto catalog = pc.catalog;
  std::future<Result<std::string>> done;
  {
    py::gil_scoped_release release;
    done = std::async(std::launch::async, [catalog, command, &args, form, cancel] {
      return RunCommand(*catalog, command, args, form, cancel.get());
    });
  }
  while (true) {
    {
      py::gil_scoped_release release;
      if (done.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) break;
    }
    if (PyErr_CheckSignals() != 0) {
      cancel->store(true);
      {
        py::gil_scoped_release release;
        done.wait();
      }
      throw py::error_already_set();
    }
  }
  return done.get();
}

Outcome Run(const PyCatalog& pc, const std::string& command, const KeyValues& kv, bool csv) {
  return FromResult(RunArgs(pc, command, ToArgs(kv), csv), command);
}

// The hot path of suanli.infer(**kw) and the other commands: the fields
// dict to Args, the command run with the GIL released, its text moved into
// a ResultText (an InputError, NotFoundError or RuntimeError raised instead).
py::object RunFields(const PyCatalog& pc, std::string_view command, const py::handle& fields, bool csv) {
  if (!PyDict_Check(fields.ptr())) throw py::type_error("fields: expected a dict");
  auto r = RunArgs(pc, command, FromDict(fields.ptr()), csv);
  if (!r) Raise(FromError(r.error(), command));
  return py::cast(ResultText{std::move(*r)});
}

// A what-if chip: (id, name, base, [(figure key, value text)]) (catalog/what_if.h).
using ChipSpec = std::tuple<std::string, std::string, std::string, KeyValues>;

// Many requests of one command, on `threads` threads (0: every core), in order.
// `chips`: what-if chips, built once, that the requests name by id as hardware;
// a request naming one that could not be built gets that chip's error.
// Each result a ResultText (its text moved in) or the exception object of its
// error (not raised): the caller decides.
py::list RunMany(const PyCatalog& pc, const std::string& command, const std::vector<Args>& args, bool csv, int threads,
                 const std::vector<ChipSpec>& chip_specs = {}) {
  std::vector<std::optional<Result<std::string>>> out(args.size());
  const ResultForm form = csv ? ResultForm::kCsv : ResultForm::kJson;
  {
    py::gil_scoped_release release;
    std::vector<Chip> chips;
    std::vector<std::pair<std::string, Error>> failed;  // chip id -> its error
    for (const auto& [id, name, base, figures] : chip_specs) {
      std::vector<FigureOverride> overrides;
      for (const auto& [k, v] : figures) overrides.push_back({k, v});
      auto chip = ChipWithOverrides(*pc.catalog, base, id, name, overrides);
      if (chip) {
        chips.push_back(std::move(*chip));
      } else {
        failed.emplace_back(id, chip.error());
      }
    }
    if (!failed.empty()) {
      for (std::size_t i = 0; i < args.size(); ++i) {
        const auto hw = args[i].Get("hardware");
        for (const auto& [id, error] : failed) {
          if (hw && *hw == id) out[i].emplace(error);
        }
      }
    }
    unsigned n = threads > 0 ? unsigned(threads) : std::max(1u, std::thread::hardware_concurrency());
    n = std::min<unsigned>(n, unsigned(std::max<std::size_t>(1, args.size())));
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      const ScopedChips scope(chips);
      for (std::size_t i = next++; i < args.size(); i = next++) {
        if (out[i]) continue;  // names a chip that could not be built
        out[i].emplace(RunCommand(*pc.catalog, command, args[i], form));
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  py::list results(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    Result<std::string>& r = *out[i];
    py::object o = r ? py::cast(ResultText{std::move(*r)}) : ExceptionOf(FromError(r.error(), command));
    PyList_SET_ITEM(results.ptr(), Py_ssize_t(i), o.release().ptr());
  }
  return results;
}

// CPU seconds per RunCommand over `n` calls in C++ alone: the baseline the
// module's per-call overhead is measured against (bench/python_overhead.py).
double TimeRun(const PyCatalog& pc, const std::string& command, const KeyValues& kv, int n) {
  const Args args = ToArgs(kv);
  py::gil_scoped_release release;
  // This thread's CPU time, as the bench's Python side measures it: other
  // processes on a shared machine do not count.
  auto cpu = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
  };
  const double start = cpu();
  std::size_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    auto r = RunCommand(*pc.catalog, command, args);
    bytes += r ? r->size() : 0;
  }
  return bytes > 0 ? (cpu() - start) / std::max(1, n) : -1;
}

py::list CommandTables() {
  py::list out;
  for (const CommandSpec& spec : Commands()) {
    py::list fields;
    for (const RequestField& f : spec.fields) {
      py::dict d;
      d["key"] = std::string(f.key);
      d["type"] = std::string(FieldTypeName(f.type));
      d["help"] = std::string(f.help);
      d["default"] = std::string(f.default_text);
      py::list choices;
      for (auto c : f.choices) choices.append(std::string(c));
      d["choices"] = choices;
      d["required"] = f.required;
      d["positional"] = f.positional;
      d["min"] = f.min;
      d["max"] = f.max;
      d["unit"] = std::string(f.unit);
      d["excludes"] = std::string(f.excludes);
      fields.append(d);
    }
    py::dict c;
    c["name"] = std::string(spec.name);
    c["summary"] = std::string(spec.summary);
    c["fields"] = fields;
    c["runnable"] = FindRunner(spec.name) != nullptr;
    out.append(c);
  }
  return out;
}

// Warning text -> code, for the inference and training estimates' warnings (JSON carries the text).
py::dict WarningCodes() {
  py::dict d;
  for (uint32_t bit = 1; bit != 0; bit <<= 1) {
    const auto texts = WarningList(bit);
    if (texts.size() == 1 && WarningCode(bit) != "?") d[py::str(texts[0])] = std::string(WarningCode(bit));
    const auto train = TrainWarningList(bit);
    if (train.size() == 1 && TrainWarningCode(bit) != "?") d[py::str(train[0])] = std::string(TrainWarningCode(bit));
  }
  return d;
}

}  // namespace

PYBIND11_MODULE(_suanli, m) {
  m.doc() = "suanli's library surface (use the `suanli` package, not this module)";
  py::class_<ResultText>(m, "ResultText")
      .def("__str__", [](const ResultText& r) { return py::str(r.text.data(), r.text.size()); })
      .def("__len__", [](const ResultText& r) { return r.text.size(); });
  // The exception classes errors are raised as (kept for the module's life).
  m.def("set_errors", [](py::object input_error, py::object not_found_error) {
    Py_XDECREF(g_input_error);
    Py_XDECREF(g_not_found_error);
    g_input_error = input_error.release().ptr();
    g_not_found_error = not_found_error.release().ptr();
  });
  py::class_<PyCatalog>(m, "Catalog")
      .def_property_readonly("dir", [](const PyCatalog& c) { return c.catalog->dir(); })
      .def("record_json",
           [](const PyCatalog& c, const std::string& id) -> Outcome {
             auto r = c.catalog->FindRecord(id);
             if (!r) return FromError(r.error(), "");
             return {0, RecordJson(*r), ""};
           })
      .def("list_json",
           [](const PyCatalog& c, const std::string& kind) -> Outcome {
             auto k = ResolveRecordKind(kind);
             if (!k) return FromError(k.error(), "");
             return {0, CatalogListJson(*c.catalog, (*k)->kind), ""};
           });
  m.def(
      "load_catalog",
      [](const std::string& dir) -> std::tuple<int, std::string, std::string, py::object> {
        Result<Catalog> loaded = Error::Internal("not loaded");
        {
          py::gil_scoped_release release;
          auto found = FindCatalogDir(dir);
          loaded = found ? Catalog::Load(*found) : Result<Catalog>(std::move(found).error());
        }
        if (!loaded) {
          auto [kind, text, key] = FromError(loaded.error(), "");
          return {kind, text, key, py::none()};
        }
        return {0, "", "", py::cast(PyCatalog{std::make_shared<const Catalog>(std::move(*loaded))})};
      },
      py::arg("dir") = "");
  m.def("run", &Run, py::arg("catalog"), py::arg("command"), py::arg("args"), py::arg("csv") = false);
  // The same with the request as a dict of Python values (what keyword
  // arguments are): a ResultText, or the error raised.
  m.def("run_fields", &RunFields, py::arg("catalog"), py::arg("command"), py::arg("fields"), py::arg("csv") = false);
  m.def(
      "run_many_fields",
      [](const PyCatalog& pc, const std::string& command, const py::list& requests, bool csv, int threads,
         const std::vector<ChipSpec>& chips) {
        std::vector<Args> many;
        many.reserve(requests.size());
        for (const py::handle r : requests) {
          if (!PyDict_Check(r.ptr())) throw py::type_error("requests: expected dicts");
          many.push_back(FromDict(r.ptr()));
        }
        return RunMany(pc, command, many, csv, threads, chips);
      },
      py::arg("catalog"), py::arg("command"), py::arg("requests"), py::arg("csv") = false, py::arg("threads") = 0,
      py::arg("chips") = std::vector<ChipSpec>{});
  m.def(
      "run_many",
      [](const PyCatalog& pc, const std::string& command, const std::vector<KeyValues>& many, bool csv, int threads) {
        std::vector<Args> args;
        args.reserve(many.size());
        for (const auto& kv : many) args.push_back(ToArgs(kv));
        return RunMany(pc, command, args, csv, threads);
      },
      py::arg("catalog"), py::arg("command"), py::arg("args"), py::arg("csv") = false, py::arg("threads") = 0);
  // The error a call raises for (kind, message, key): the mapping the tests check.
  m.def("raise_error", [](int kind, const std::string& text, const std::string& key) {
    Raise({kind, text, key});
  });
  m.def("time_run", &TimeRun, py::arg("catalog"), py::arg("command"), py::arg("args"), py::arg("n"));
  m.def("commands", &CommandTables);
  m.def("warning_codes", &WarningCodes);
}
