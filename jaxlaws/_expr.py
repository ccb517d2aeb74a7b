"""Safe column expressions: the one evaluator behind every option that takes an expression.

``--where "6*N*D < 1e21"``, ``--weights "1/sd**2"`` (and ``where=``/``weights=`` in the API)
travel in methods cards, saved JSON, recipes and shared command lines, so they are *data*, and
evaluating them must not be able to run code. pandas' ``DataFrame.eval`` allows attribute
access and method calls (``N.__class__.__init__.__globals__...`` reached ``os.system``); this
evaluator parses the expression with Python's own parser (``ast``, which never executes) and
walks a whitelist:

- numbers, strings (for comparisons with text columns), ``True``/``False``, ``pi``, ``inf``,
  ``nan``, column names (also as ```column name with spaces```);
- arithmetic ``+ - * / // % **``, unary ``-``, ``+``;
- comparisons ``< <= > >= == !=`` (chained: ``1e9 <= N < 1e11``), ``in`` / ``not in`` a list
  of constants;
- logic ``and``, ``or``, ``not`` and their element-wise spellings ``&``, ``|``, ``~``;
- the functions ``FUNCTIONS`` (log, exp, sqrt, abs, min, max, ...), positional arguments only.

Anything else (attributes, subscripts, other calls, lambdas, comprehensions, f-strings, names
that are not columns) is refused with an ``OptionError`` naming what and where, before any
value is computed. Numbers are float64 (``9**9**9`` is ``inf``, not a big integer that takes
minutes), and expressions are capped in length and size.
"""

from __future__ import annotations

import ast
import re

import numpy as np

from ._errors import OptionError

MAX_CHARS = 2000
MAX_NODES = 500

# name -> (numpy function, number of arguments: an int, or None for two or more)
FUNCTIONS = {
    "log": (np.log, 1), "log10": (np.log10, 1), "log2": (np.log2, 1), "log1p": (np.log1p, 1),
    "exp": (np.exp, 1), "expm1": (np.expm1, 1), "sqrt": (np.sqrt, 1), "abs": (np.abs, 1),
    "floor": (np.floor, 1), "ceil": (np.ceil, 1), "isfinite": (np.isfinite, 1), "isnan": (np.isnan, 1),
    "min": (np.minimum, None), "max": (np.maximum, None),
}
CONSTANTS = {"pi": np.pi, "inf": np.inf, "nan": np.nan, "True": True, "False": False}

_BIN = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
        ast.FloorDiv: np.floor_divide, ast.Mod: np.mod, ast.Pow: np.power,
        ast.BitAnd: np.logical_and, ast.BitOr: np.logical_or}
_CMP = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
        ast.Eq: np.equal, ast.NotEq: np.not_equal}
_WHAT = {ast.Attribute: "attribute access (.name)", ast.Subscript: "subscripts ([...])",
         ast.Lambda: "lambda", ast.JoinedStr: "f-strings", ast.ListComp: "comprehensions",
         ast.GeneratorExp: "comprehensions", ast.DictComp: "comprehensions", ast.SetComp: "comprehensions",
         ast.NamedExpr: "assignment (:=)", ast.Starred: "starred arguments", ast.Dict: "dicts",
         ast.IfExp: "conditional expressions", ast.Await: "await", ast.Yield: "yield"}
_BACKTICK = re.compile(r"`([^`]*)`")


def _fail(what: str, expr: str, why: str):
    raise OptionError(f"{what} {expr!r}: {why} (allowed: column names, numbers, arithmetic, comparisons, "
                      f"and/or/not, {', '.join(FUNCTIONS)})")


def parse(expr, what: str = "expression"):
    """``expr`` checked against the whitelist; returns ``(tree, names)`` where ``names`` maps
    the identifiers used to the column names they stand for. Nothing is evaluated."""
    if not isinstance(expr, str) or not expr.strip():
        raise OptionError(f"{what} {expr!r}: give an expression over the table's columns, e.g. \"6 * N * D < 1e21\"")
    if len(expr) > MAX_CHARS:
        _fail(what, expr[:40] + "...", f"longer than {MAX_CHARS} characters")
    aliases = {}

    def quote(m):  # `col name` -> an identifier that cannot clash with a column
        key = f"__col{len(aliases)}"
        aliases[key] = m.group(1)
        return key

    src = _BACKTICK.sub(quote, expr)
    try:
        tree = ast.parse(src.strip(), mode="eval")
    except SyntaxError as e:
        _fail(what, expr, f"not a valid expression ({e.msg})")
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        _fail(what, expr, f"more than {MAX_NODES} parts")
    names = {}
    for node in nodes:
        bad = next((w for t, w in _WHAT.items() if isinstance(node, t)), None)
        if bad is not None:
            _fail(what, expr, f"not allowed: {bad}")
        if isinstance(node, ast.Call):
            f = node.func
            if not isinstance(f, ast.Name) or f.id not in FUNCTIONS:
                name = f.id if isinstance(f, ast.Name) else ast.unparse(f)
                _fail(what, expr, f"calling {name!r} is not allowed")
            if node.keywords:
                _fail(what, expr, f"{f.id}() takes positional arguments only")
        elif isinstance(node, ast.Name):
            if node.id in aliases:
                names[node.id] = aliases[node.id]
            elif node.id not in FUNCTIONS and node.id not in CONSTANTS:
                names[node.id] = node.id
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
            _fail(what, expr, f"the constant {node.value!r} is not a number or a string")
        elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Constant,
                                   ast.List, ast.Tuple, ast.Load, ast.operator, ast.unaryop, ast.boolop,
                                   ast.cmpop)):
            _fail(what, expr, f"{type(node).__name__} is not allowed")
        if isinstance(node, (ast.BinOp,)) and type(node.op) not in _BIN:
            _fail(what, expr, f"the operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.Compare) and any(type(o) in (ast.Is, ast.IsNot) for o in node.ops):
            _fail(what, expr, "'is' is not allowed (use ==)")
    return tree, names


def evaluate(expr, columns, what: str = "expression") -> np.ndarray:
    """The value of ``expr`` over ``columns`` (a mapping name -> 1-D array, e.g. a DataFrame),
    element-wise, as a numpy array (scalars broadcast to the column length)."""
    tree, names = parse(expr, what)
    cols = list(columns.keys()) if hasattr(columns, "keys") else list(columns)
    missing = [c for c in names.values() if c not in cols]
    if missing:
        _fail(what, expr, f"{missing[0]!r} is not a column (columns: {cols})")
    env = {k: np.asarray(columns[c]) for k, c in names.items()}
    n = len(next(iter(env.values()))) if env else (len(columns[cols[0]]) if cols else 0)
    with np.errstate(all="ignore"):  # log(0) = -inf, 1/0 = inf: the callers decide what a row may hold
        try:
            out = _eval(tree.body, env, expr, what)
        except OptionError:
            raise
        except (TypeError, ValueError) as e:
            _fail(what, expr, f"cannot be computed on these columns ({e})")
    out = np.asarray(out)
    return np.broadcast_to(out, (n,)).copy() if out.ndim == 0 else out


def _num(v):
    # numbers as float64: Python ints would make 9**9**9 an exact big integer (minutes of CPU)
    return np.float64(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _eval(node, env, expr, what):
    if isinstance(node, ast.Constant):
        return _num(node.value)
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else CONSTANTS[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, env, expr, what) for e in node.elts]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env, expr, what)
        if isinstance(node.op, (ast.Not, ast.Invert)):
            return np.logical_not(v)
        return np.negative(v) if isinstance(node.op, ast.USub) else np.positive(v)
    if isinstance(node, ast.BinOp):
        return _BIN[type(node.op)](_eval(node.left, env, expr, what), _eval(node.right, env, expr, what))
    if isinstance(node, ast.BoolOp):
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = _eval(node.values[0], env, expr, what)
        for v in node.values[1:]:
            out = fn(out, _eval(v, env, expr, what))
        return out
    if isinstance(node, ast.Compare):
        left, out = _eval(node.left, env, expr, what), True
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, env, expr, what)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, list):
                    _fail(what, expr, "'in' needs a list of values, e.g. task in ['a', 'b']")
                r = np.isin(np.asarray(left), np.asarray(right, dtype=object if any(isinstance(x, str) for x in right)
                                                         else float))
                r = np.logical_not(r) if isinstance(op, ast.NotIn) else r
            else:
                r = _CMP[type(op)](left, right)
            out = np.logical_and(out, r)
            left = right
        return out
    if isinstance(node, ast.Call):
        fn, arity = FUNCTIONS[node.func.id]
        args = [_eval(a, env, expr, what) for a in node.args]
        if (arity is not None and len(args) != arity) or (arity is None and len(args) < 2):
            _fail(what, expr, f"{node.func.id}() takes {arity if arity is not None else 'two or more'} argument(s)")
        out = args[0]
        if arity is None:
            for a in args[1:]:
                out = fn(out, a)
            return out
        return fn(np.asarray(out, dtype=float))
    _fail(what, expr, f"{type(node).__name__} is not allowed")
