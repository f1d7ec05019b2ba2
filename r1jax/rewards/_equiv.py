"""Mathematical equivalence of two parsed answers with sympy (runs inside the reward worker processes).

    judge(r"\\frac{1}{2}", "0.5")  # -> (True, "ok")

Rules, in the order they apply:

  * `\\pm` expands into the unordered list of its values: `1 \\pm \\sqrt{2}` is {1 + sqrt2, 1 - sqrt2}.
  * A flat list of assignments whose names repeat in a cycle is one solution per cycle: `p = 5, q = 2, p = 7,
    q = 2` is [[p = 5, q = 2], [p = 7, q = 2]].
  * Assignments unwrap when the other side is not a relation (an equation between two letters, `y = x`, is no
    assignment: either letter may be the one named): `x = 3` matches `3`, `x \\in [0, 1]` matches `[0, 1]`,
    `(p, q) = (3, 2)` matches `(3, 2)`, `AB = 4, CD = 5` matches `4, 5`; a named quantity given by a number too:
    `|AB| = 1`, `V_1 : V_2 = 11 : 21` (products, ratios, absolute values of up to four symbols, no coefficient).
  * Numbers: exact when both sides are exact. When a decimal literal appears on either side, a number without a
    finite decimal expansion (pi, sqrt(2), 8/3) also equals a decimal within 1e-6 (relative, absolute below 1) or
    one that is it rounded or truncated to the digits shown with at least 4 significant digits (125.663 for
    40 pi; see r1jax.rewards.math); a number with a finite expansion is never approximated. Complex numbers
    compare their real and imaginary parts so.
  * Symbolic expressions are evaluated at fixed probe points where every variable takes its own value (so `x = y`
    never matches `x = z`, nor `x - y` a constant): six rows of mixed signs, then, only if those leave fewer than
    three usable points, four rows of positive values. Exactly where the expression is rational, at 50 digits
    otherwise. For real answers a point where both sides are non-real is skipped (principal branches of roots and
    logarithms: 1/sqrt(x) is sqrt(1/x) wherever both are real) and a point where only one side is real is a
    difference (sqrt(|x|) is not sqrt(x)). sympy's expand / simplify of the difference decides what the probes
    cannot, and is required when an expression holds a literal too large or too small for the probes to be
    trusted (`x + 10^{-40}` is not `x`). With decimals, a polynomial whose coefficients are the other's rounded
    the way numbers may be is equal (x + 1.414i and x + sqrt(2) i). At a probe point two exact rational values
    compare exactly (a finite decimal is never approximated, in an expression either), and the decimal
    tolerance is relative to the smallest term of either sum, so that a large term cannot hide a small extra
    one (e^{10x} + 0.0000001 is not e^{10x}). Expressions with kinks (absolute value, floor, ceiling, sign,
    max, min, mod) are probed again with the rows scaled by 10 to 10^5: |x + 10| - 10 and |x + 11| - 11 agree
    near zero.
  * Relations used as values must be true: `2 + 2 = 4` answers 4, but `2 + 2 = 5` and `x = 5 = 7` answer nothing.
    A compound name of letters only shown with its arithmetic, `m + n = 256 + 37 = 293`, answers its last side when
    every later side is numeric and equals it exactly; with two sides (`x + y = 5`) it stays an equation.
  * Equations: lhs - rhs must agree up to a non-zero constant factor (y = 2x + 1 and 2y - 4x = 2 are equal).
  * A list of inequalities in two or more unknowns is a system of conditions (a comma, \\wedge and \\land join
    them): it equals a list of the same atomic inequalities in any order, chains split (a > 0, -4a^2 < b < 0 is
    a > 0, 4a^2 + b > 0, b < 0). In one unknown a comma may mean "or", so such lists compare as lists.
  * Single-variable inequalities, intervals and unions compare as sets of reals: an interval answers an inequality
    (gold x > 3, answer (3, \\infty)), but not the other way round (a gold interval asks for an interval). The
    variable may be a name (0 < f(x) < 1) or an absolute value (1 <= |z| <= 2 is [-2, -1] U [1, 2]).
  * Chains whose middle is an expression (33 <= 3(x+4) <= 42) are split into their single inequalities, a reversed
    chain read the other way round; they equal a chain whose halves match them one to one, in place, each as a
    single inequality (11 <= x+4 <= 14; 360\\pi < 12\\pi x < 480\\pi and 30 < x < 40).
  * Order rules: `\\{...\\}` sets and bare comma lists are unordered; `(a, b)` tuples are ordered; a tuple and an
    interval with different brackets differ; a row or column vector equals the tuple of its entries, and the
    `[a, b]` list of them when compared with a matrix; a gold tuple equals a bare list in its order (the tuple
    without its parentheses). A system of equations (cases, aligned) is an unordered list of equations.
  * Unevaluated sums and products (symbolic bounds) have no value at the probe points: they equal only what
    sympy's expand makes them (the same form, factors in any order).
  * A one-element set or list equals its element, except a gold written `[x]` as a whole: that asks for the list
    (an answer [x] for a gold x is that answer in list brackets).
  * An assignment's value keeps its kind: `x = \\{42\\}` is a set and does not answer 42, nor `x = 42` the set
    `\\{42\\}`. A gold list of three or more items in square brackets (`[1, 2, 3]`, never an interval) equals a bare
    list in its order.
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import sympy

from r1jax.rewards.math import decimal_places, rounds_to
from r1jax.rewards._parser import PM_PREFIX, Bracket, Builder, ListOf, Matrix, ParseError, Relation, SetOf, UnionOf, parse

PRECISION = 50  # digits for numeric evaluation
EXACT_RTOL = sympy.Float("1e-35", PRECISION)  # equal exact expressions agree to ~50 digits
INEXACT_RTOL = sympy.Float("1e-6", PRECISION)  # a decimal on either side: relative tolerance 1e-6
TINY = sympy.Float("1e-40", PRECISION)  # both values below this count as zero
MIN_PROBE_POINTS = 3
MAX_OPS_FOR_SIMPLIFY = 200  # larger differences skip simplify (numeric evaluation only)

MAX_TRUSTED_LITERAL_BITS = 64  # an exact literal with more bits (10^{-40}) makes probe agreement no proof
NUM_PROBES = 6
NUM_POSITIVE_PROBES = 4
MAX_PROBE_SYMBOLS = 16


def _probe_table():
  """[NUM_PROBES + NUM_POSITIVE_PROBES][MAX_PROBE_SYMBOLS] rationals of magnitude 0.1 to 3, drawn once with a fixed
  seed, so that every variable moves on its own (no two variables keep a fixed difference or ratio across the
  points): NUM_PROBES rows of both signs, then NUM_POSITIVE_PROBES rows of positive values (where roots and logs of
  the variables are real)."""
  rng = random.Random(1729)
  table = []
  for r in range(NUM_PROBES + NUM_POSITIVE_PROBES):
    row = []
    for _ in range(MAX_PROBE_SYMBOLS):
      magnitude = rng.randint(1000, 30000)
      sign = rng.choice((-1, 1)) if r < NUM_PROBES else 1
      row.append(sympy.Rational(sign * magnitude, 9973))  # 9973 is prime: no short decimals
    table.append(row)
  return table


_PROBES = _probe_table()


def judge(gold: str, prediction: str, gold_percent: bool = False, pred_percent: bool = False) -> tuple[bool, str]:
  """Whether two normalised answers are equivalent, and a status: ok, parse_error or gold_parse_error."""
  try:
    g = parse(gold)
  except (ParseError, RecursionError, ValueError, TypeError, ZeroDivisionError, OverflowError):
    return False, "gold_parse_error"
  try:
    p = parse(prediction)
  except (ParseError, RecursionError, ValueError, TypeError, ZeroDivisionError, OverflowError):
    return False, "parse_error"
  inexact = g.inexact or p.inexact
  # A prediction's percent sign is part of its value (4% is 0.04) unless the gold is a percent too; the gold's
  # names the unit the answer is asked in: "25%" is answered by 25%, 25 and 0.25.
  if (gold_percent or not pred_percent) and equal(g.value, p.value, inexact):
    return True, "ok"
  if gold_percent and isinstance(g.value, sympy.Expr) and equal(g.value / 100, p.value, inexact):
    return True, "ok"
  if pred_percent and isinstance(p.value, sympy.Expr) and equal(g.value, p.value / 100, inexact):
    return True, "ok"
  return False, "ok"


def _is_collection(v) -> bool:
  return isinstance(v, (SetOf, ListOf))


def equal(g, p, inexact: bool) -> bool:
  """Equivalence of two parsed values (see the module docstring for the rules)."""
  g, p = _regroup(_expand_pm(g)), _regroup(_expand_pm(p))
  unwrapped = _unwrap_assignments(g, p, inexact)
  if (unwrapped[0] is not g or unwrapped[1] is not p) and _is_collection(unwrapped[0]) != _is_collection(unwrapped[1]):
    return False  # an assignment's value keeps its kind: x = \\{42\\} is a set, not 42, and x = 42 is not \\{42\\}
  g, p = unwrapped
  if _one_item_list(p) and not _one_item_list(g):
    p = p.items[0]  # an answer [45] for 45 (the brackets of a list of answers); a gold [5] asks for the list
  if isinstance(g, sympy.Expr) and isinstance(p, sympy.Expr):
    return expr_equal(g, p, inexact)
  gc, pc = _conditions(g), _conditions(p)
  if gc is not None and pc is not None:  # systems of inequalities in several unknowns: the sets of their conditions
    return _unordered_equal(gc, pc, inexact)
  if _is_collection(g) and _is_collection(p):
    return _unordered_equal(g.items, p.items, inexact)
  if _is_collection(g) and len(g.items) == 1:
    return equal(g.items[0], p, inexact)
  if _is_collection(p) and not _is_collection(g) and all(equal(g, item, inexact) for item in p.items):
    return bool(p.items)  # one answer, or the same answer repeated ("-2 and -2")
  if isinstance(g, Relation) and isinstance(p, Relation):
    return _relation_equal(g, p, inexact)
  if isinstance(g, (Bracket, UnionOf, SetOf)) and isinstance(p, Relation):
    return False  # asked for a set or an interval, answered with an inequality: not the answer asked for
  if isinstance(g, Bracket) and isinstance(p, Bracket) and (g.open, g.close) == (p.open, p.close):
    return _ordered_equal(g.items, p.items, inexact)
  if isinstance(g, Bracket) and (g.open, g.close) == ("(", ")") and isinstance(p, ListOf):
    return _ordered_equal(g.items, p.items, inexact)  # the tuple written without its parentheses, in its order
  if isinstance(g, Bracket) and (g.open, g.close) == ("[", "]") and len(g.items) > 2 and isinstance(p, ListOf):
    return _ordered_equal(g.items, p.items, inexact)  # a list [1, 2, 3] (no interval has three ends), in its order
  if isinstance(g, Matrix) and isinstance(p, Matrix):
    return (len(g.rows) == len(p.rows) and len(g.rows[0]) == len(p.rows[0])
            and _ordered_equal(sum(g.rows, ()), sum(p.rows, ()), inexact))
  gi, pi = intervals(g), intervals(p)
  if gi is not None and pi is not None:
    return _intervals_equal(gi, pi, inexact)
  gv, pv = _vector(g, p), _vector(p, g)
  if gv is not None and pv is not None:
    return _ordered_equal(gv, pv, inexact)
  return False


# ---------------------------------------------------------------------------------------------------------------
# Structure helpers


_ORDERS = ("<", "<=", ">", ">=")


def _conditions(v):
  """A list of inequalities in two or more unknowns (a system of conditions: "a > 0, -4a^2 < b < 0") as its atomic
  inequalities, every chain a < b < c split into a < b and b < c; None for anything else. In one unknown a comma
  between inequalities may mean "or" (x < -2, x > 1), so such a list is no system."""
  if not (isinstance(v, ListOf) and v.items and all(
      isinstance(i, Relation) and all(op in _ORDERS for op in i.ops)
      and all(isinstance(e, sympy.Expr) for e in i.exprs) for i in v.items)):
    return None
  if len(set().union(*(_variables(e) for i in v.items for e in i.exprs))) < 2:
    return None
  return [Relation((i.exprs[k], i.exprs[k + 1]), (op,)) for i in v.items for k, op in enumerate(i.ops)]


def _one_item_list(v) -> bool:
  """A whole answer `[x]` (parsed as a one-item Bracket)."""
  return isinstance(v, Bracket) and len(v.items) == 1


def _expand_pm(v):
  """Replace `\\pm` placeholders by both signs: a scalar becomes an unordered list of its values."""
  if isinstance(v, (ListOf, SetOf)):
    items = []
    for item in v.items:
      expanded = _expand_pm(item)
      items.extend(expanded.items if isinstance(expanded, ListOf) and not isinstance(item, ListOf) else [expanded])
    return type(v)(tuple(items))
  if isinstance(v, Relation):  # x = \\pm 2 is the list x = 2, x = -2
    values = [_expand_pm(e) for e in v.exprs]
    if not any(isinstance(e, ListOf) for e in values) or not all(isinstance(e, (ListOf, sympy.Expr)) for e in values):
      return v
    options = [e.items if isinstance(e, ListOf) else (e,) for e in values]
    if sum(len(o) > 1 for o in options) > 1:
      return v  # several sides with \\pm: their signs are not independent
    return ListOf(tuple(Relation(tuple(combo), v.ops) for combo in itertools.product(*options)))
  if not isinstance(v, sympy.Expr):
    return v
  signs = sorted((s for s in v.free_symbols if s.name.startswith(PM_PREFIX)), key=lambda s: s.name)
  if not signs:
    return v
  values = []
  for combo in itertools.product((sympy.Integer(1), sympy.Integer(-1)), repeat=len(signs)):
    value = v.xreplace(dict(zip(signs, combo)))
    if value not in values:
      values.append(value)
  return ListOf(tuple(values))


def _regroup(v):
  """A flat list of assignments whose names repeat in a cycle, `p = 5, q = 2, p = 7, q = 2` (also written with a
  semicolon between the solutions), as the list of its solutions: [[p = 5, q = 2], [p = 7, q = 2]]."""
  if not (isinstance(v, ListOf) and len(v.items) >= 4 and all(
      isinstance(i, Relation) and i.ops == ("=",) and isinstance(i.exprs[0], sympy.Symbol) for i in v.items)):
    return v
  names = [i.exprs[0] for i in v.items]
  for k in range(2, len(names) // 2 + 1):
    if len(names) % k == 0 and len(set(names[:k])) == k and all(n == names[j % k] for j, n in enumerate(names)):
      return ListOf(tuple(ListOf(v.items[j:j + k]) for j in range(0, len(names), k)))
  return v


def _variables(e) -> set:
  """The free symbols of an expression that are variables: not the opaque values the parser writes as symbols
  whose names start with a digit (a numeral in another base, 664_7; a time of day, 11:21)."""
  return {s for s in e.free_symbols if not s.name[:1].isdigit()}


_NAME_FACTORS = 4  # symbols in a product or ratio naming a quantity: AB, |AB|, V_1 : V_2, NO / BO


def _is_quantity_name(e) -> bool:
  """A product or ratio of up to _NAME_FACTORS symbols or their absolute values: AB, |AB|, V_1/V_2, A:B."""
  factors = e.args if isinstance(e, sympy.Mul) else (e,)
  count = 0
  for f in factors:
    if isinstance(f, sympy.Pow) and f.exp in (1, -1):
      f = f.base
    if isinstance(f, sympy.Abs):
      f = f.args[0]
      inner = f.args if isinstance(f, sympy.Mul) else (f,)
      if not all(isinstance(a, sympy.Symbol) for a in inner):
        return False
      count += len(inner)
    elif isinstance(f, sympy.Symbol):
      count += 1
    else:
      return False
  return 1 <= count <= _NAME_FACTORS


def _is_name(e, value) -> bool:
  """A label being assigned: `x`, `f(x)` (parsed as the product f*x, its argument appearing in `value`), a product
  of up to three letters naming a quantity (`AB = 4`), or a tuple of names (`(p, q) = (3, 2)`)."""
  if isinstance(e, sympy.Symbol):
    return True
  if (isinstance(e, sympy.Mul) and len(e.args) == 2 and isinstance(value, sympy.Expr)
      and any(isinstance(a, sympy.Pow) and a.exp == -1 and isinstance(a.base, sympy.Symbol) for a in e.args)
      and any(isinstance(a, sympy.Symbol) and a in value.free_symbols for a in e.args)):
    return True  # f^{-1}(x), read as f^{-1} * x, naming a formula in x
  if isinstance(e, Bracket):
    return e.open == "(" and e.close == ")" and all(isinstance(i, sympy.Symbol) for i in e.items)
  if not isinstance(value, sympy.Expr):
    return False
  if not _variables(value):  # a named quantity given by a number: AB = 4, |AB| = 1, V_1 : V_2 = 11 : 21
    return isinstance(e, (sympy.Mul, sympy.Abs)) and _is_quantity_name(e)
  if not (isinstance(e, sympy.Mul) and 2 <= len(e.args) <= 3 and all(isinstance(a, sympy.Symbol) for a in e.args)):
    return False
  return len(e.args) == 2 and len(set(e.args) & value.free_symbols) == 1


def _is_names_expression(e) -> bool:
  """Names joined by +, -, * and / (with parentheses), no number anywhere: `m + n`, `a + b + c`, `m - n`, `(p + q)/r`.
  Its atoms are variables (no number, constant or function); a sum holds a term that is not negated and a product a
  factor that is not a divisor, so `-m - n`, `1/m + n`, `2m + n` and `m + m` (that is 2m) are none."""
  if isinstance(e, sympy.Symbol):
    return e.name[:1].isalpha()  # not a numeral in another base (664_7) nor a \\pm placeholder
  if isinstance(e, sympy.Add):
    terms = [t.as_coeff_Mul() for t in e.args]
    return any(c == 1 for c, _ in terms) and all(c in (1, -1) and _is_names_expression(t) for c, t in terms)
  if isinstance(e, sympy.Mul):
    divisors = [f for f in e.args if isinstance(f, sympy.Pow) and f.exp == -1]
    return len(divisors) < len(e.args) and all(_is_names_expression(f.base if f in divisors else f) for f in e.args)
  return False


def _all_equal(values, inexact) -> bool:
  """Whether every value of a chain equals the last one (exactly, or within the decimal tolerance)."""
  return all(equal(v, values[-1], inexact) for v in values[:-1])


def _assigned_value(rel: Relation, inexact: bool):
  """The value of an assignment `x = v`, `f(x) = v`, `(p, q) = (3, 2)`, `x = a = v` (a true chain), `v = x`, a true
  computation `2 + 2 = 4` (all sides numeric and equal: the last), or `x \\in S`; None for other relations, and
  for chains that are false (`2 + 2 = 5`, `x = 5 = 7`): a false statement answers nothing."""
  first, last = rel.exprs[0], rel.exprs[-1]
  if all(op == "=" for op in rel.ops):
    if _is_name(first, last):
      return last if _all_equal(rel.exprs[1:], inexact) else None
    if len(rel.exprs) == 2 and isinstance(last, sympy.Symbol) and not isinstance(first, sympy.Symbol):
      return first
    if all(isinstance(e, sympy.Expr) and not e.free_symbols for e in rel.exprs):
      return last if _all_equal(rel.exprs, inexact) else None
    if (len(rel.exprs) > 2 and _is_names_expression(first)
        and all(isinstance(e, sympy.Expr) and not e.free_symbols for e in rel.exprs[1:])):
      # A compound name shown with its arithmetic, `m + n = 256 + 37 = 293`: the numeric sides must agree exactly.
      # Two sides (`x + y = 5`) stay an equation, the line a gold may ask for.
      return last if _all_equal(rel.exprs[1:], False) else None
  if rel.ops == ("in",) and isinstance(first, sympy.Symbol):
    return last
  return None


def _unwrap_assignments(g, p, inexact):
  """Drop `x =` from one side when the other side is a bare value (or a list of bare values), and from both sides
  when both define a function by a formula in its variables (`f(x) = 2x + 3` and `y = 2x + 3`)."""
  if isinstance(g, Relation) and isinstance(p, Relation) and g.ops == p.ops == ("=",):
    gv, pv = _assigned_value(g, inexact), _assigned_value(p, inexact)
    if (gv is not None and pv is not None and isinstance(gv, sympy.Expr) and isinstance(pv, sympy.Expr)
        and gv.free_symbols and pv.free_symbols and _is_name(g.exprs[0], gv) and _is_name(p.exprs[0], pv)
        and not (g.exprs[0].free_symbols & gv.free_symbols == set() and p.exprs[0] != g.exprs[0])):
      return gv, pv

  def values_of(v, other):
    if isinstance(v, Relation) and not isinstance(other, Relation):
      value = _value_given(v, inexact)
      return v if value is None else value
    if isinstance(v, ListOf) and v.items and all(isinstance(i, Relation) for i in v.items):
      values = [_value_given(i, inexact) for i in v.items]
      if all(x is not None for x in values) and not _has_relations(other):
        # "x = 1, y = 2" against a tuple is ordered (in the order written), otherwise unordered.
        if isinstance(other, Bracket) and other.open == "(" and other.close == ")":
          return Bracket("(", ")", tuple(values))
        return ListOf(tuple(values))
    return v

  return values_of(g, p), values_of(p, g)


def _value_given(rel: Relation, inexact: bool):
  """The value an assignment gives, for comparison with a bare value: as _assigned_value, except that an equation
  between two single letters (`y = x`) gives no value: either letter may be the one named, so it does not say what
  is being answered (Khan Academy's checker: y = x does not answer x, nor x answer y = x). A letter set equal to a
  formula (`y = x^2 + 2x + 1`) names that formula."""
  value = _assigned_value(rel, inexact)
  if len(rel.exprs) == 2 and all(isinstance(e, sympy.Symbol) and _variables(e) for e in rel.exprs):
    return None
  return value


def _has_relations(v) -> bool:
  if isinstance(v, Relation):
    return True
  return isinstance(v, ListOf) and any(isinstance(i, Relation) for i in v.items)


def _ordered_equal(gs, ps, inexact) -> bool:
  return len(gs) == len(ps) and all(equal(a, b, inexact) for a, b in zip(gs, ps))


def _unordered_equal(gs, ps, inexact) -> bool:
  """Set equality: every element on each side has an equivalent on the other."""
  if not gs or not ps:
    return not gs and not ps
  memo = {}

  def eq(i, j):
    if (i, j) not in memo:
      memo[i, j] = equal(gs[i], ps[j], inexact)
    return memo[i, j]

  return (all(any(eq(i, j) for j in range(len(ps))) for i in range(len(gs)))
          and all(any(eq(i, j) for i in range(len(gs))) for j in range(len(ps))))


def _vector(v, other=None):
  """Entries of a row/column matrix or of a ( ) tuple (also of a [ ] list when `other` is a matrix), else None."""
  if isinstance(v, Matrix) and (len(v.rows) == 1 or len(v.rows[0]) == 1):
    return sum(v.rows, ())
  if isinstance(v, Bracket) and ((v.open, v.close) == ("(", ")") or (
      (v.open, v.close) == ("[", "]") and isinstance(other, Matrix))):
    return v.items
  return None


# ---------------------------------------------------------------------------------------------------------------
# Intervals


def _real_float(v):
  """A numeric real value as a Python float (+-inf allowed), else None."""
  if not isinstance(v, sympy.Expr) or v.free_symbols:
    return None
  if v in (sympy.oo, -sympy.oo):
    return float(v)
  value = sympy.N(v, 20)
  if not value.is_real or not value.is_finite:
    return None
  return float(value)


def _bracket_interval(b: Bracket):
  if len(b.items) != 2 or b.open not in "([" or b.close not in ")]":
    return None
  lo, hi = _real_float(b.items[0]), _real_float(b.items[1])
  if lo is None or hi is None or lo > hi:
    return None
  return [(b.items[0], b.items[1], b.open == "(", b.close == ")")]


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _inequality_interval(rel: Relation):
  """`x < a`, `a <= x`, `a < x <= b` (numeric bounds; x a symbol or a name such as f(x)) as intervals; `x != a` as
  two; a bound on |x| as the values of x it allows (1 <= |z| <= 2 is [-2, -1] and [1, 2])."""
  exprs, ops = rel.exprs, rel.ops
  if not all(isinstance(e, sympy.Expr) for e in exprs):
    return None
  positions = [i for i, e in enumerate(exprs) if e.free_symbols]
  if len(positions) != 1:
    return None
  k = positions[0]
  variable = exprs[k]
  absolute = isinstance(variable, sympy.Abs) and isinstance(variable.args[0], sympy.Symbol)
  named = isinstance(variable, sympy.Mul) and len(variable.args) <= 3 and all(
      isinstance(a, sympy.Symbol) for a in variable.args)  # f(x), read as the product f x
  if not (isinstance(variable, sympy.Symbol) or absolute or named):
    return None
  if len(exprs) == 2 and ops == ("!=",):
    if absolute:
      return None
    a = exprs[1 - k]
    return [(-sympy.oo, a, True, True), (a, sympy.oo, True, True)]
  lo, hi, lo_open, hi_open = -sympy.oo, sympy.oo, True, True
  # Each op relates its neighbours; rewrite every one as "x op bound".
  for j, op in enumerate(ops):
    if op not in _FLIP:
      return None
    if j == k:  # x op exprs[j+1]
      bound, rel_op = exprs[j + 1], op
    elif j + 1 == k:  # exprs[j] op x  ->  x flipped(op) exprs[j]
      bound, rel_op = exprs[j], _FLIP[op]
    else:
      return None
    if rel_op in ("<", "<="):
      hi, hi_open = bound, rel_op == "<"
    else:
      lo, lo_open = bound, rel_op == ">"
  return _absolute_intervals(lo, hi, lo_open, hi_open) if absolute else [(lo, hi, lo_open, hi_open)]


def _absolute_intervals(lo, hi, lo_open, hi_open):
  """The values of x whose |x| lies between lo and hi, as intervals (None when a bound is not a real number)."""
  lo_value, hi_value = _real_float(lo), _real_float(hi)
  if lo_value is None or hi_value is None:
    return None
  if lo_value < 0 or (lo_value == 0 and not lo_open):  # no lower bound on |x| beyond |x| >= 0
    return [(-hi, hi, hi_open, hi_open)]
  if lo_value == 0:
    return [(-hi, sympy.Integer(0), hi_open, True), (sympy.Integer(0), hi, True, hi_open)]
  return [(-hi, -lo, hi_open, lo_open), (lo, hi, lo_open, hi_open)]


def intervals(v):
  """A value as a list of (lo, hi, lo_open, hi_open) real intervals, or None if it is not a set of reals."""
  if isinstance(v, Bracket):
    return _bracket_interval(v)
  if isinstance(v, Builder):  # {x | x > 2}: its condition, when that is about its variable alone
    found = intervals(v.condition)
    variables = set().union(*(e.free_symbols for e in v.condition.exprs if isinstance(e, sympy.Expr))) \
        if isinstance(v.condition, Relation) else None
    return found if found is not None and variables == {v.variable} else None
  if isinstance(v, Relation):
    if v.ops == ("in",) and isinstance(v.exprs[0], sympy.Symbol):  # x \\in [a, b]
      return intervals(v.exprs[1])
    return _inequality_interval(v)
  if isinstance(v, SetOf) and not v.items:
    return []
  if isinstance(v, SetOf):  # points, as degenerate closed intervals (only meaningful inside a union)
    if not all(_real_float(i) is not None for i in v.items):
      return None
    return [(i, i, False, False) for i in v.items]
  if isinstance(v, UnionOf):
    out = []
    for part in v.parts:
      part_intervals = intervals(part)
      if part_intervals is None:
        return None
      out.extend(part_intervals)
    return out
  return None


def _intervals_equal(a, b, inexact) -> bool:
  if len(a) != len(b):
    return False
  key = lambda t: (_real_float(t[0]), t[2], _real_float(t[1]))  # noqa: E731
  for (alo, ahi, alo_open, ahi_open), (blo, bhi, blo_open, bhi_open) in zip(sorted(a, key=key), sorted(b, key=key)):
    if (alo_open, ahi_open) != (blo_open, bhi_open):
      return False
    if not (expr_equal(alo, blo, inexact) and expr_equal(ahi, bhi, inexact)):
      return False
  return True


# ---------------------------------------------------------------------------------------------------------------
# Relations


def _relation_equal(g: Relation, p: Relation, inexact) -> bool:
  if g.ops == ("in",) and p.ops != ("in",):
    return False  # asked for a set (x \\in [a, b]), answered with an inequality
  gi, pi = intervals(g), intervals(p)
  if gi is not None and pi is not None:
    return _intervals_equal(gi, pi, inexact)
  if not all(isinstance(e, sympy.Expr) for e in g.exprs + p.exprs):
    if g.ops == p.ops == ("in",):
      return equal(g.exprs[0], p.exprs[0], inexact) and equal(g.exprs[1], p.exprs[1], inexact)
    return False
  if all(op == "=" for op in g.ops + p.ops):
    return equation_equal(g.exprs[0] - g.exprs[-1], p.exprs[0] - p.exprs[-1], inexact)
  if len(g.ops) == len(p.ops) == 1 and g.ops[0] != "=" and p.ops[0] != "=":
    return _inequality_equal(g, p, inexact)
  gh, ph = _chain_halves(g), _chain_halves(p)
  if gh is not None and ph is not None and len(gh) == len(ph):  # 33 <= 3(x+4) <= 42 against 11 <= x+4 <= 14
    return all(_inequality_equal(a, b, inexact) for a, b in zip(gh, ph))
  return False


def _chain_halves(rel: Relation):
  """A chain a < m < b (two or more order signs, all pointing one way; a reversed chain b > m > a read as a < m < b)
  as its single inequalities in order, [a < m, m < b]; None for anything else. Two chains whose halves agree one to
  one, each as a single inequality (same strictness, positive sides a positive multiple of each other), hold for the
  same values: each half does. Halves are matched in place only, never crosswise."""
  if len(rel.ops) < 2:
    return None
  exprs, ops = rel.exprs, rel.ops
  if all(op in (">", ">=") for op in ops):
    exprs, ops = exprs[::-1], tuple(_FLIP[op] for op in reversed(ops))
  elif not all(op in ("<", "<=") for op in ops):
    return None
  return [Relation((exprs[k], exprs[k + 1]), (op,)) for k, op in enumerate(ops)]


def _inequality_equal(g: Relation, p: Relation, inexact) -> bool:
  """a op b against c op' d: same strictness and the same positive side (b - a for <, a - b for >)."""
  def normal(rel):
    a, b = rel.exprs
    op = rel.ops[0]
    if op == "!=":
      return "!=", a - b
    return ("strict" if op in "<>" else "weak"), (b - a if op in ("<", "<=") else a - b)

  (gk, gd), (pk, pd) = normal(g), normal(p)
  if gk != pk:
    return False
  if expr_equal(gd, pd, inexact) or (gk == "!=" and expr_equal(gd, -pd, inexact)):
    return True
  ratio = _constant_ratio(gd, pd, inexact)  # -2x > 4 is x < -2: the positive sides differ by a factor 2 > 0
  return ratio is not None and (ratio > 0 or gk == "!=")


def equation_equal(d1, d2, inexact) -> bool:
  """Equations lhs1 - rhs1 = 0 and lhs2 - rhs2 = 0 are equal when the differences agree up to a constant factor."""
  if expr_equal(d1, d2, inexact) or expr_equal(d1, -d2, inexact):
    return True
  return _constant_ratio(d1, d2, inexact) is not None


def _constant_ratio(d1, d2, inexact):
  """d1 / d2 when it is the same non-zero real number at every probe point (checked at MIN_PROBE_POINTS or more,
  both sides in variables), else None."""
  symbols = sorted(d1.free_symbols | d2.free_symbols, key=str)
  if not symbols or _has_series(d1, d2):
    return None
  ratios = []
  for point in _points(symbols):
    v1, v2 = _evaluate(d1, point), _evaluate(d2, point)
    if v1 is None or v2 is None or abs(v2) < TINY or abs(v1) < TINY:
      continue
    ratios.append(v1 / v2)
  if len(ratios) < MIN_PROBE_POINTS:
    return None
  tol = INEXACT_RTOL if inexact else EXACT_RTOL
  if not all(_close(r, ratios[0], tol) for r in ratios[1:]) or not _is_real_value(ratios[0]):
    return None
  ratio = sympy.re(ratios[0])
  if inexact and not isinstance(ratio, sympy.Rational) and _probe(d1, ratio * d2, symbols, tol) is not True:
    return None  # agreement of the ratios to 1e-6 only: cos(10x) + 0.0000001 < 0 is not cos(10x) < 0
  return ratio


# ---------------------------------------------------------------------------------------------------------------
# Scalars


def _points(symbols, scale=1):
  """Deterministic probe points: one substitution dict per probe row; symbol k takes column k (mod the width), times
  `scale`."""
  return [{sym: (row[k % MAX_PROBE_SYMBOLS] + k // MAX_PROBE_SYMBOLS) * scale for k, sym in enumerate(symbols)}
          for row in _PROBES]


def _evaluate(expr, subs=None):
  """expr as a finite sympy number at PRECISION digits, or None (symbols left, nan, infinities, errors)."""
  if subs:
    exact = expr.xreplace(subs)  # a rational function of the symbols becomes an exact Rational: no evalf needed
    if isinstance(exact, sympy.Rational):
      return exact
  try:
    value = sympy.N(expr, PRECISION, subs=subs) if subs else sympy.N(expr, PRECISION)
  except (TypeError, ValueError, ZeroDivisionError, OverflowError, ArithmeticError):
    return None
  if not value.is_number or value.free_symbols or value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
    return None
  re_part, im_part = value.as_real_imag()
  if not (re_part.is_Number and im_part.is_Number):
    return None
  return sympy.Float(re_part, PRECISION) + sympy.I * sympy.Float(im_part, PRECISION) if im_part else \
      sympy.Float(re_part, PRECISION)


def _close(a, b, rtol, scale=None) -> bool:
  """|a - b| <= rtol * scale (default max(|a|, |b|)), with both below TINY counting as equal.

  Exact Rationals compare exactly whatever the tolerance: the decimal tolerance is for a decimal standing in for a
  number without a finite expansion (pi, sqrt(2)), and a rational function of rational values has none, so
  x = 1.52399022 is not x = (1 + .2345)^2 = 1.52399025 however close they are."""
  if isinstance(a, sympy.Rational) and isinstance(b, sympy.Rational):
    return a == b
  if max(abs(a), abs(b)) < TINY:
    return True
  if scale is None:
    scale = max(abs(a), abs(b))
  return bool(abs(a - b) <= rtol * scale)


def _decimals(q):
  """Digits after the point of a sympy Rational's finite decimal expansion, or None when it has none."""
  return decimal_places(Fraction(int(q.p), int(q.q)))


def _bad(expr) -> bool:
  return expr.has(sympy.nan, sympy.zoo)


def expr_equal(a, b, inexact: bool) -> bool:
  """Equivalence of two scalar expressions (exact, or within INEXACT_RTOL when `inexact`)."""
  if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
    return False
  if _bad(a) or _bad(b):
    return False  # nan and complex infinity are no answers, not even equal to themselves
  if a == b:
    return True
  if a.has(sympy.oo, -sympy.oo) or b.has(sympy.oo, -sympy.oo):
    return False  # infinities only match structurally (oo == oo above)
  tol = INEXACT_RTOL if inexact else EXACT_RTOL
  symbols = sorted(a.free_symbols | b.free_symbols, key=str)
  if not symbols:
    return _numbers_equal(a, b, inexact)
  if _has_series(a, b):  # no numeric value at probe points: equal only in form
    return _simplifies_to_zero(a - b)
  verdict = _probe(a, b, symbols, tol)
  if verdict and _has_kinks(a, b) and not _agree_at_scales(a, b, symbols, tol):
    return False
  if verdict is False:  # a decimal answer may still be the exact one with its numbers rounded: x + 1.414i
    return bool(inexact) and _coefficients_equal(a, b, symbols, inexact)
  if verdict and (inexact or not _has_untrusted_literal(a, b)):
    return True
  if inexact:
    return False
  return _simplifies_to_zero(a - b)


def _numbers_equal(a, b, inexact: bool) -> bool:
  """Two numbers (no variables): exact equality, or with a decimal involved, agreement to 1e-6 relative (below 1:
  absolute) or the decimal being the other number rounded or truncated to its digits (see _rounds_to)."""
  if a == b:
    return True
  # Distinct exact rationals differ, and a decimal never approximates a number with a finite decimal expansion
  # (1000001.0 is not 1000000); it may approximate 1/3 or pi.
  if isinstance(a, sympy.Rational) and isinstance(b, sympy.Rational) and (
      not inexact or (_decimals(a) is not None and _decimals(b) is not None)):
    return False
  va, vb = _evaluate(a), _evaluate(b)
  if va is None or vb is None:
    return False
  tol = INEXACT_RTOL if inexact else EXACT_RTOL
  if inexact and va.is_real and vb.is_real:  # six decimals (as Math-Verify rounds), relative below 1
    return bool(abs(va - vb) <= tol * min(1, max(abs(va), abs(vb)))) or _rounds_to(a, b) or _rounds_to(b, a)
  if inexact:  # complex: the real and the imaginary parts each
    (ra, ia), (rb, ib) = a.as_real_imag(), b.as_real_imag()
    return _numbers_equal(ra, rb, inexact) and _numbers_equal(ia, ib, inexact)
  if not _close(va, vb, tol):
    return False
  return not _has_untrusted_literal(a, b) or _simplifies_to_zero(a - b)


def _rounds_to(decimal, exact) -> bool:
  """Whether `decimal` (a rational with a finite decimal expansion) is `exact` rounded or truncated to its digits,
  where `exact` has no finite decimal expansion (pi, sqrt(3), 8/3): see r1jax.rewards.math.rounds_to. A number
  that could be written exactly is never approximated (1000001.0 is not 1000000, 4.9999999 is not 5)."""
  if not isinstance(decimal, sympy.Rational) or _decimals(decimal) is None:
    return False
  if isinstance(exact, sympy.Rational) and _decimals(exact) is not None:
    return False

  def scaled(digits):
    value = _evaluate(exact * 10**digits)
    if value is None or not _is_real_value(value) or abs(value) >= 10**(PRECISION - 10):  # digits it can trust
      return None
    return sympy.re(value)

  return rounds_to(Fraction(int(decimal.p), int(decimal.q)), scaled)


def _coefficients_equal(a, b, symbols, inexact) -> bool:
  """Polynomials in their variables whose coefficients are equal numbers, decimals compared as numbers are
  (x + 1.414i against x + sqrt(2) i); False for anything that is not a small polynomial."""
  if sympy.count_ops(a) + sympy.count_ops(b) > MAX_OPS_FOR_SIMPLIFY:
    return False
  try:
    pa, pb = sympy.Poly(a, *symbols), sympy.Poly(b, *symbols)
  except (sympy.PolynomialError, TypeError, ValueError):
    return False
  ca, cb = pa.as_dict(), pb.as_dict()
  if set(ca) != set(cb) or len(ca) > MAX_PROBE_SYMBOLS:
    return False
  return all(_numbers_equal(ca[k], cb[k], inexact) for k in ca)  # as_dict() gives SymPy numbers already


def _has_untrusted_literal(*exprs) -> bool:
  """Whether an exact rational literal is so large or so small (more than MAX_TRUSTED_LITERAL_BITS bits in its
  numerator or denominator) that agreement at 50 digits says nothing: `x + 10^{-40}` agrees with `x` there."""
  return any(max(int(r.p).bit_length(), int(r.q).bit_length()) > MAX_TRUSTED_LITERAL_BITS
             for e in exprs for r in e.atoms(sympy.Rational))


def _probe(a, b, symbols, tol, scale=1):
  """Numeric comparison at the probe points (each row times `scale`): False on any clear difference, True when enough
  points agree.

  For real answers (no i in either) a point where both values are non-real is skipped: there the principal
  branches of roots and logarithms need not agree (sqrt(1/x) and 1/sqrt(x) at x < 0), while a point where only one
  value is real is a difference (sqrt(x) against sqrt(|x|) at x < 0)."""
  real_answers = not (a.has(sympy.I) or b.has(sympy.I))
  agree = 0
  for row, point in enumerate(_points(symbols, scale)):
    if row == NUM_PROBES and agree >= MIN_PROBE_POINTS:
      break  # the positive rows are for answers with too few real points among the mixed-sign ones
    va, vb = _evaluate(a, point), _evaluate(b, point)
    if va is None or vb is None:
      continue
    if real_answers:
      real_a, real_b = _is_real_value(va), _is_real_value(vb)
      if not real_a and not real_b:
        continue
      if real_a != real_b:
        return False
    scale = _term_scale(a, b, point, va, vb) if tol is INEXACT_RTOL else None
    if not _close(va, vb, tol, scale):
      return False
    agree += 1
  return True if agree >= MIN_PROBE_POINTS else None


def _term_scale(a, b, point, va, vb):
  """The size a decimal tolerance is relative to at a probe point: the smallest non-zero term of either sum (or the
  larger value when that is smaller), so that a large term cannot hide a small extra one: e^{10x} + \\sin(10x) +
  0.0000001 is not e^{10x} + \\sin(10x), though the two agree to 1e-6 of their value."""
  scale = max(abs(va), abs(vb))
  for term in itertools.chain(sympy.Add.make_args(a), sympy.Add.make_args(b)):
    value = _evaluate(term, point)
    if value is not None and TINY < abs(value) < scale:
      scale = abs(value)
  return scale


_KINKED = (sympy.Abs, sympy.floor, sympy.ceiling, sympy.sign, sympy.Max, sympy.Min, sympy.Heaviside,
           sympy.Piecewise, sympy.frac, sympy.Mod)
PROBE_SCALES = (10, 100, 1000, 10**4, 10**5)  # probe rows scaled up: variables out to about 3 * 10^5


def _has_kinks(*exprs) -> bool:
  """Whether an expression is only piecewise smooth (absolute value, floor, ceiling, sign, max, min, mod)."""
  return any(e.has(*_KINKED) for e in exprs)


def _agree_at_scales(a, b, symbols, tol) -> bool:
  """Whether two piecewise expressions also agree with every probe row scaled by PROBE_SCALES. The probe values lie
  within 3 of zero, where |x + 10| - 10 and |x + 11| - 11 are both x: their kinks lie further out."""
  return all(_probe(a, b, symbols, tol, factor) is not False for factor in PROBE_SCALES)


def _is_real_value(v) -> bool:
  """Whether an evaluated number is real (its imaginary part is zero at the working precision)."""
  if isinstance(v, sympy.Rational) or v.is_real:
    return True
  re_part, im_part = v.as_real_imag()
  return bool(abs(im_part) <= TINY * max(1, abs(re_part)))


def _has_series(*exprs) -> bool:
  """Whether an unevaluated sum or product (symbolic bounds) appears: such answers compare by form alone."""
  return any(e.has(sympy.Sum, sympy.Product) for e in exprs)


def _simplifies_to_zero(diff) -> bool:
  """sympy's verdict on diff == 0 when numeric evaluation could not decide (expand first, simplify if small)."""
  try:
    if sympy.expand(diff) == 0:
      return True
    if sympy.count_ops(diff) > MAX_OPS_FOR_SIMPLIFY or _has_series(diff):
      return False
    return sympy.simplify(diff) == 0
  except (TypeError, ValueError, ZeroDivisionError, OverflowError, ArithmeticError, RecursionError):
    return False
