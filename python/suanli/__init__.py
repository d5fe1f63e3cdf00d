"""suanli: what an AI chip is really worth for LLM workloads, from Python.

    import suanli
    r = suanli.infer(hardware="h20", model="llama-3.1-70b",
                     input_tokens=2048, output_tokens=512, tp=8, batch=16)
    r.estimate.ttft_s, r.to_dict(), r.warnings

Every command the library registers (infer, compare, train, classify, and
whatever lands later) is a function here, with one keyword argument per
field of its request table (the CLI's flags without the dashes: --input-tokens
is input_tokens). Results are the CLI's --json objects: attributes, to_dict()
and, for lists, to_pandas(). Bad input raises InputError (a ValueError) with
the CLI's message and the field's key; a fault of suanli raises RuntimeError.
"""
from __future__ import annotations

import inspect
import json
import os
import sys
from typing import Any, Iterable, Mapping, Sequence

from . import _suanli

__all__ = ["Catalog", "Result", "Record", "InputError", "NotFoundError", "commands", "run", "run_csv", "run_many"]
__version__ = "0.1.0"


class InputError(ValueError):
    """Bad input: a field's value, a plan that cannot run, a file that is wrong.

    `key` is the field (or key path) the first problem is about, as the CLI
    names it without the dashes; `str(e)` is the CLI's message with keys.
    """

    def __init__(self, message: str, key: str = ""):
        super().__init__(message)
        self.key = key


class NotFoundError(InputError, LookupError):
    """A name (chip, model, rule set, record, command) that is not there."""


# The extension raises these for the library's errors (a RuntimeError for a fault).
_suanli.set_errors(InputError, NotFoundError)


def _raise(kind: int, text: str, key: str):
    if kind == 1:
        raise InputError(text, key)
    if kind == 2:
        raise NotFoundError(text, key)
    raise RuntimeError("internal error: " + text)


# --- Attribute access over the JSON ---

class Record(dict):
    """A JSON object with its keys as attributes too (r.estimate.ttft_s)."""

    __slots__ = ()

    def __getattr__(self, name: str):
        try:
            return _wrap(self[name])
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return list(self.keys())

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self))


def _wrap(v):
    if isinstance(v, dict) and not isinstance(v, Record):
        return Record(v)
    if isinstance(v, list):
        return [_wrap(x) for x in v]
    return v


_WARNING_CODES = _suanli.warning_codes()


def _warnings_in(node, out: list, seen: set):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "warnings" and isinstance(v, list):
                for w in v:
                    if isinstance(w, str) and w not in seen:
                        seen.add(w)
                        out.append({"code": _WARNING_CODES.get(w, "note"), "text": w})
            else:
                _warnings_in(v, out, seen)
    elif isinstance(node, list):
        for x in node:
            _warnings_in(x, out, seen)


class Result:
    """One command's result: the --json object of the same request.

    The text stays in the library's buffer until it is read (to_json,
    to_dict, an attribute), and is parsed on first use, so a sweep that keeps
    only a few numbers pays for parsing only when it reads them.
    """

    __slots__ = ("command", "_text", "_data")

    def __init__(self, command: str, text):
        self.command = command
        self._text = text  # a str, or the library's _suanli.ResultText
        self._data = None

    def _parsed(self) -> dict:
        if self._data is None:
            self._data = json.loads(str(self._text))
        return self._data

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        data = self._parsed()
        if name in data:
            return _wrap(data[name])
        raise AttributeError(f"{self.command} result has no field '{name}' (fields: {', '.join(data)})")

    def __getitem__(self, key: str):
        return _wrap(self._parsed()[key])

    def __dir__(self):
        return list(self._parsed().keys()) + ["to_dict", "to_json", "to_pandas", "warnings", "command"]

    def __repr__(self):
        keys = ", ".join(list(self._parsed().keys())[:6])
        return f"<suanli.Result {self.command}: {keys}, ...>"

    def to_dict(self) -> dict:
        """The same keys and numbers as `suanli COMMAND --json`."""
        return json.loads(str(self._text))

    def to_json(self) -> str:
        """The --json text."""
        return str(self._text)

    @property
    def warnings(self) -> list:
        """Every warning in the result, once, as {code, text}."""
        out: list = []
        _warnings_in(self._parsed(), out, set())
        return out

    def rows(self) -> list:
        """The result's list (compare rows, searched plans, classifications), or [self] for one."""
        data = self._parsed()
        for key in ("rows", "plans", "results", "chips", "cases", "points"):
            v = data.get(key)
            if isinstance(v, list) and v and isinstance(v[0], dict):
                return v
        for v in data.values():
            if isinstance(v, dict):
                for key in ("plans", "rows", "pareto"):
                    w = v.get(key)
                    if isinstance(w, list) and w and isinstance(w[0], dict):
                        return w
        return [data]

    def to_pandas(self):
        """A pandas DataFrame, one row per item of the result's list (nested keys dotted)."""
        try:
            import pandas  # optional: Debian python3-pandas
        except ImportError as e:
            raise ImportError("to_pandas() needs pandas (Debian: apt-get install python3-pandas)") from e
        return pandas.json_normalize(self.rows())


# --- The catalog ---

def _package_catalog_dir() -> str:
    """The installed catalog beside an installed package; "" to let the library look."""
    if os.environ.get("SUANLI_CATALOG"):
        return ""
    try:
        from ._installed import CATALOG_FROM_PACKAGE
    except ImportError:
        return ""
    d = os.path.normpath(os.path.join(os.path.dirname(__file__), CATALOG_FROM_PACKAGE))
    return d if os.path.isdir(d) else ""


class Catalog:
    """A loaded catalog. Catalog.load() finds it as the CLI does ($SUANLI_CATALOG,
    the installed one, the source tree's); Catalog.load(dir) reads `dir`."""

    __slots__ = ("_c",)

    def __init__(self, handle):
        self._c = handle

    @classmethod
    def load(cls, dir: str | os.PathLike | None = None) -> "Catalog":
        kind, text, key, handle = _suanli.load_catalog(os.fspath(dir) if dir else _package_catalog_dir())
        if kind:
            _raise(kind, text, key)
        return cls(handle)

    @property
    def dir(self) -> str:
        return self._c.dir

    def record(self, id: str) -> Record:
        """Every field of the record `id` (any kind), with its sources, as `catalog show --json`."""
        kind, text, key = self._c.record_json(id)
        if kind:
            _raise(kind, text, key)
        return Record(json.loads(text))

    chip = system = model = rule_set = source = stack = profile = record

    def list(self, kind: str = "chips") -> list:
        """The records of one kind with their headline figures, as `catalog list KIND --json`."""
        kind_, text, key = self._c.list_json(kind)
        if kind_:
            _raise(kind_, text, key)
        data = json.loads(text)
        for v in data.values():
            if isinstance(v, list):
                return [_wrap(x) for x in v]
        return [data]

    def __repr__(self):
        return f"<suanli.Catalog {self.dir}>"


_default: Catalog | None = None
_default_handle = None  # _default's library handle, once loaded: what a call without catalog= uses


def default_catalog() -> Catalog:
    """The catalog Catalog.load() finds, loaded once."""
    global _default, _default_handle
    if _default is None:
        _default = Catalog.load()
        _default_handle = _default._c
    return _default


# --- Commands, from the library's request field tables ---

_TABLES = {c["name"]: c for c in _suanli.commands()}


def commands() -> dict:
    """Every command's request field table: {name: {summary, fields: [{key, type, help, default, ...}]}}."""
    return json.loads(json.dumps(_TABLES))


def _handle(catalog):
    if catalog is None:
        return _default_handle if _default_handle is not None else default_catalog()._c
    return catalog._c


_run_fields = _suanli.run_fields  # a ResultText, or the error raised (InputError, NotFoundError, RuntimeError)


def run(command: str, catalog: Catalog | None = None, **fields) -> Result:
    """Runs `command` (infer, train, ...) with its request `fields`."""
    return Result(command, _run_fields(_handle(catalog), command, fields))


def run_csv(command: str, catalog: Catalog | None = None, **fields) -> str:
    """The same, as the CLI's --csv text."""
    return str(_run_fields(_handle(catalog), command, fields, True))


def run_many(command: str, requests: Iterable[Mapping[str, Any]], catalog: Catalog | None = None,
             threads: int = 0, errors: str = "raise", chips: Iterable[Mapping[str, Any]] = ()) -> list:
    """Many requests of one command on `threads` C++ threads (0: every core), the GIL
    released throughout; results in order. errors="return" puts each request's
    InputError (or RuntimeError) in its place instead of raising the first.

    chips: what-if chips the requests may name by id as hardware, each
    {"id", "base", "figures": {"compute.fp8": "592 TFLOPS", ...}, "name" (optional)}:
    the catalog chip `base` with those figures, checked by the chip schema's
    bounds as a chip file extending it would be, built once in the library (no
    file written); a request naming one that fails gets its error."""
    if errors not in ("raise", "return"):
        raise ValueError("errors: expected 'raise' or 'return'")
    reqs = [r if type(r) is dict else dict(r) for r in requests]
    specs = [(str(c["id"]), str(c.get("name") or ""), str(c["base"]),
              [(str(k), str(v)) for k, v in c["figures"].items()]) for c in chips]
    outs = _suanli.run_many_fields(_handle(catalog), command, reqs, False, threads, specs)
    results = []
    for out in outs:  # a ResultText, or its error's exception object
        if isinstance(out, BaseException):
            if errors == "raise":
                raise out
            results.append(out)
        else:
            results.append(Result(command, out))
    return results


def _make(name: str, table: dict):
    fields = table["fields"]
    params = [inspect.Parameter(f["key"], inspect.Parameter.KEYWORD_ONLY,
                                default=inspect.Parameter.empty if f["required"] else None) for f in fields]
    params.append(inspect.Parameter("catalog", inspect.Parameter.KEYWORD_ONLY, default=None))

    def command(*, catalog: Catalog | None = None, **kw) -> Result:
        # The default catalog's handle without a call: this is every estimate's path.
        handle = _default_handle if catalog is None and _default_handle is not None else _handle(catalog)
        return Result(name, _run_fields(handle, name, kw))

    def many(requests: Iterable[Mapping[str, Any]], *, catalog: Catalog | None = None, threads: int = 0,
             errors: str = "raise") -> list:
        return run_many(name, requests, catalog=catalog, threads=threads, errors=errors)

    lines = [table["summary"], "", "Keyword arguments (the request fields):"]
    for f in fields:
        extra = []
        if f["required"]:
            extra.append("required")
        if f["default"]:
            extra.append("default: " + f["default"])
        if f["choices"]:
            extra.append("one of " + ", ".join(f["choices"]))
        if f["unit"]:
            extra.append(f["unit"])
        lines.append(f"  {f['key']} ({f['type']}): {f['help']}" + (f" [{'; '.join(extra)}]" if extra else ""))
    command.__name__ = command.__qualname__ = name
    command.__doc__ = "\n".join(lines)
    command.__signature__ = inspect.Signature(params)
    many.__name__ = many.__qualname__ = name + "_many"
    many.__doc__ = f"Many `{name}` requests (dicts of its fields) at once, in order; see run_many."
    return command, many


for _name, _table in _TABLES.items():
    if _table["runnable"] and _name.isidentifier():
        _f, _m = _make(_name, _table)
        setattr(sys.modules[__name__], _name, _f)
        setattr(sys.modules[__name__], _name + "_many", _m)
        __all__ += [_name, _name + "_many"]
del _name, _table, _f, _m
