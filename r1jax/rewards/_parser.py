"""A small recursive-descent parser from LaTeX or plain math to sympy objects, with no eval anywhere.

    parsed = parse(r"\\frac{1}{2} + \\sqrt{2}")   # Parsed(value=sqrt(2) + 1/2, inexact=False)

Model output is untrusted, so this parser builds sympy objects only through constructors (sympy.Rational,
sympy.Symbol, sympy.Pow, ...) applied to tokens it has validated itself, and it bounds everything that could make
sympy compute for long before sympy sees it: the number of tokens, the nesting depth, the digits of a literal, the
size of an exact power (so `9^{9^{9^{9}}}` is refused, never computed), factorials and binomials.

Values are sympy expressions, or the small structures below for what is not a scalar:

    Relation   a = b, x <= 3, 1 < x < 2, x \\in [0, 1]  (exprs and the ops between them)
    Bracket    (a, b), [a, b), (1, 2, 3): a tuple or an interval; which one is decided when comparing
    SetOf      \\{1, 2\\}: unordered
    ListOf     1, 2, 3 (a bare comma list, as in "enter all solutions"): unordered
    UnionOf    (-\\infty, 1) \\cup (2, \\infty)
    Builder    \\{x \\mid x > 2\\}: compared as the set of reals its condition describes
    Matrix     \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}; sums, scalar multiples and (small) products of
               matrices are computed; a vmatrix is its determinant (up to 4x4)

Decimal literals are kept exact (0.1 is 1/10) and flag the result `inexact`, which turns on the relative float
tolerance when comparing. `\\pm` becomes a placeholder symbol that the comparison expands into two values.
`a \\bmod b` is sympy's Mod; a numeral in another base (`664_7`, `4210_{7}`) and a time of day (`7:32`, an
integer colon two digits at the end) are opaque symbols compared as written (their names start with a digit,
which no variable's can); an integer followed by a proper fraction is a mixed number (`2\\frac{1}{4}`, `2 1/4`),
while two numbers side by side otherwise are refused ("1 2" is neither 12 nor a product).
`\\sum_{k=a}^{b}` / `\\prod` with integer bounds are computed term by term (MAX_SERIES_TERMS, every term
rebuilt through the bounded constructors); with symbolic bounds they stay sympy's unevaluated Sum / Product.
A subscript that is an expression names a term of a sequence (`a_{n+1}` is the undefined function a at n + 1);
one that is a word is one name (`S_{MBCN}`); an upper-case word alone in braces is points (`\\frac{NO}{BO}`),
elsewhere a short word stays refused ("NO 0" is no product that equals 0). A system (`cases`, `aligned`, ...)
is the list of its rows, `&` being alignment only. A power after a function's braced argument is TeX's, set on the
group: `\\log{x}^3` is log(x^3) (`{\\log x}^3` and `\\log^3 x` are (log x)^3). A letter before a parenthesised
relation of a letter and a value is one name, a probability: `P(X = 0)` (read otherwise it is no value).
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction

import sympy

MAX_CHARS = 2000  # longer answers are refused before tokenizing
MAX_TOKENS = 600
MAX_DEPTH = 100  # parser recursion levels: bounds Python recursion and sympy tree depth
MAX_LITERAL_DIGITS = 100
MAX_ITEMS = 64  # elements of a list / set / tuple, cells of a matrix
MAX_EXPONENT = 10_000  # |numeric exponent|
MAX_COMPOUND_EXPONENT = 200  # |exponent| on a non-atomic symbolic base: (x + 1)^200 still expands in reasonable time
MAX_POWER_BITS = 40_000  # bits of an exact numeric power, estimated before sympy computes it
MAX_RATIONAL_BITS = 200_000  # bits of any exact rational built along the way
MAX_FACTORIAL = 1_000
MAX_PM = 3  # \\pm signs in one answer (each doubles the values to compare)
MAX_SERIES_TERMS = 1_000  # terms of a \\sum or \\prod with numeric bounds (computed term by term)

PM_PREFIX = "_pm"  # names of the \\pm placeholder symbols; letters from the input can never start with "_"
_SYSTEMS = frozenset(["cases", "aligned", "align", "align*", "gathered", "gather", "gather*", "split", "eqnarray",
                      "eqnarray*", "alignedat", "rcases", "dcases"])  # environments whose rows are equations


class ParseError(ValueError):
  """The text is not math this parser accepts (or exceeds a size bound)."""


@dataclasses.dataclass(frozen=True)
class Relation:
  """A chain `exprs[0] ops[0] exprs[1] ops[1] ...`; ops are '=', '<', '<=', '>', '>=', '!=', 'in'."""

  exprs: tuple
  ops: tuple


@dataclasses.dataclass(frozen=True)
class Bracket:
  """`open item, item, ... close`: a tuple when open/close are ( ), else an interval; two items or more, except a
  whole answer written `[item]`, a one-element list (see _Parser.parse)."""

  open: str
  close: str
  items: tuple


@dataclasses.dataclass(frozen=True)
class SetOf:
  """An explicit set `\\{a, b\\}` (unordered)."""

  items: tuple


@dataclasses.dataclass(frozen=True)
class ListOf:
  """A bare comma-separated list `a, b, c` (unordered: the form of "all solutions" answers)."""

  items: tuple


@dataclasses.dataclass(frozen=True)
class Builder:
  """`\\{x \\mid condition\\}`: the set of the values of `variable` where `condition` holds."""

  variable: object
  condition: object


@dataclasses.dataclass(frozen=True)
class UnionOf:
  """`a \\cup b \\cup ...` of intervals or sets."""

  parts: tuple


@dataclasses.dataclass(frozen=True)
class Matrix:
  """Rows of cells (all rows the same length)."""

  rows: tuple


@dataclasses.dataclass(frozen=True)
class Parsed:
  """A parsed answer: its value and whether a decimal literal appeared in it (float tolerance applies)."""

  value: object
  inexact: bool


# ---------------------------------------------------------------------------------------------------------------
# Tokens: (kind, text) with kinds num, sym, const, func, rel, op, cmd, env_begin, env_end, end.

_TOKEN_RE = re.compile(
    r"(?P<env>\\(?:begin|end)\s*\{[a-zA-Z*]{1,20}\})"
    r"|(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d{1,3}(?![\d.]))?|\.\d+|\.(?=\\(?:overline|dot)\b))"
    r"|(?P<cmd>\\[a-zA-Z]+|\\[^a-zA-Z])"
    r"|(?P<word>[a-zA-Z]+)"
    r"|(?P<op>\*\*|<=|>=|!=|=<|=>|[-+*/^_=<>!|(){}\[\],;&':])"
    r"|(?P<space>\s+)")

_FUNCS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot, "sec": sympy.sec, "csc": sympy.csc,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "asin": sympy.asin, "acos": sympy.acos,
    "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "log": sympy.log,
    "ln": sympy.log, "exp": sympy.exp, "sqrt": sympy.sqrt, "abs": sympy.Abs, "arccot": sympy.acot,
    "arcsec": sympy.asec, "arccsc": sympy.acsc, "acot": sympy.acot, "asec": sympy.asec, "acsc": sympy.acsc,
    "factorial": lambda n: factorial(n),  # plain notation's factorial(n) is n! (bounded the same way)
    "sech": sympy.sech, "csch": sympy.csch, "coth": sympy.coth, "asinh": sympy.asinh, "acosh": sympy.acosh,
    "atanh": sympy.atanh, "arcsinh": sympy.asinh, "arccosh": sympy.acosh, "arctanh": sympy.atanh,
    "asech": sympy.asech, "acsch": sympy.acsch, "acoth": sympy.acoth,
    "floor": sympy.floor, "ceil": sympy.ceiling, "ceiling": sympy.ceiling, "cbrt": lambda x: root(x, sympy.Integer(3)),
    "round": lambda x: sympy.sign(x) * sympy.floor(sympy.Abs(x) + sympy.Rational(1, 2)),  # halves away from 0
    "binom": None, "nCr": None, "nPr": None, "gcd": None, "lcm": None,  # two arguments: see Parser.function
}
# Names that are functions only when an opening parenthesis follows: re(z), im(z), arg(z) and SymPy's Abs(x);
# elsewhere "re", "im" and "Abs" stay products of letters.
_PAREN_FUNCS = {"re": sympy.re, "im": sympy.im, "arg": sympy.arg, "Abs": sympy.Abs}
# max and min of one or more scalars, only before an opening parenthesis (plain and SymPy spellings): max(m, n) is
# max(n, m), max(m) is m, max(3, 5) is 5; elsewhere "max" and "Min" stay products of letters.
_MANY_ARGUMENTS = {"max": sympy.Max, "min": sympy.Min, "Max": sympy.Max, "Min": sympy.Min}
_TWO_ARGUMENTS = {"binom": lambda n, k: binomial(n, k), "nCr": lambda n, k: binomial(n, k),
                  "nPr": lambda n, k: _falling_factorial(n, k),
                  "gcd": lambda a, b: sympy.gcd(*_integers(a, b)), "lcm": lambda a, b: sympy.lcm(*_integers(a, b))}


def _integers(*values):
  """The arguments of gcd and lcm: integers (of bounded size, as every literal is), else a ParseError."""
  if not all(isinstance(v, sympy.Integer) for v in values):
    raise ParseError("gcd and lcm take integers")
  return values
_INVERSE = {"sin": sympy.asin, "cos": sympy.acos, "tan": sympy.atan, "cot": sympy.acot, "sec": sympy.asec,
            "csc": sympy.acsc}
_CONSTS = {"pi": sympy.pi, "inf": sympy.oo, "infty": sympy.oo, "infinity": sympy.oo, "oo": sympy.oo}
_GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho sigma tau "
    "upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Phi Psi Omega".split())
_SKIP_CMDS = frozenset([
    "\\,", "\\;", "\\:", "\\!", "\\ ", "\\quad", "\\qquad", "\\left", "\\right", "\\big", "\\Big", "\\bigg",
    "\\Bigg", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\displaystyle", "\\limits", "\\mathrm", "\\mathbf",
])
_CMD_ALIASES = {
    "\\cdot": ("op", "*"), "\\times": ("op", "*"), "\\ast": ("op", "*"), "\\div": ("op", "/"),
    "\\pm": ("op", "±"), "\\mp": ("op", "∓"), "\\cup": ("op", "∪"),
    "\\lvert": ("op", "|"), "\\rvert": ("op", "|"), "\\vert": ("op", "|"), "\\mid": ("op", "|"),
    "\\langle": ("op", "("), "\\rangle": ("op", ")"), "\\lbrack": ("op", "["), "\\rbrack": ("op", "]"),
    "\\lparen": ("op", "("), "\\rparen": ("op", ")"),
    "\\le": ("rel", "<="), "\\leq": ("rel", "<="), "\\leqslant": ("rel", "<="), "\\ge": ("rel", ">="),
    "\\geq": ("rel", ">="), "\\geqslant": ("rel", ">="), "\\leqq": ("rel", "<="), "\\geqq": ("rel", ">="),
    "\\lt": ("rel", "<"), "\\gt": ("rel", ">"),
    "\\ne": ("rel", "!="), "\\neq": ("rel", "!="), "\\in": ("rel", "in"), "\\approx": ("rel", "="),
    "\\dfrac": ("cmd", "\\frac"), "\\tfrac": ("cmd", "\\frac"), "\\cfrac": ("cmd", "\\frac"),
    "\\dbinom": ("cmd", "\\binom"), "\\tbinom": ("cmd", "\\binom"), "\\infty": ("const", "inf"),
    "\\pi": ("const", "pi"), "\\varnothing": ("cmd", "\\emptyset"), "\\bmod": ("op", "mod"), "\\mod": ("op", "mod"),
    # An angle's name is one more factor of a quantity's name: \\angle APC = 74 gives 74, as APC = 74 does.
    "\\angle": ("sym", "angle"), "\\measuredangle": ("sym", "angle"),
}
_OP_RELS = {"=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "=<": "<=", "=>": ">=", "!=": "!="}


# Short words that are prose, not products of variables: "not 0" is no answer (as n*o*t*0 it would equal 0).
_SHORT_WORDS = frozenset("not no nor non nil neg but or and yes any all few".split())


def _split_word(word: str) -> list[tuple[str, str]]:
  """A run of letters: a function or constant name, a function name glued to <= 3 letters, or <= 3 variables.

  Longer unknown words are refused rather than read as a product of many variables: "even" is a word, not e*v*e*n.
  """
  if word in _FUNCS:
    return [("func", word)]
  if word in _CONSTS:
    return [("const", word)]
  if word.lower() in _SHORT_WORDS:
    raise ParseError(f"word {word!r}")
  if word in _GREEK and len(word) > 3:  # plain notation's theta, alpha: the letter (eta, phi, ... stay products)
    return [("sym", word)]
  if len(word) <= 3:
    return [("sym", c) for c in word]
  for name in sorted(_FUNCS, key=len, reverse=True):
    if word.startswith(name) and len(word) - len(name) <= 3:
      return [("func", name)] + [("sym", c) for c in word[len(name):]]
  raise ParseError(f"unknown word {word[:20]!r}")


def _command_token(cmd: str) -> list[tuple[str, str]]:
  """Map a LaTeX command to zero or one token."""
  if cmd in _SKIP_CMDS:
    return []
  if cmd in _CMD_ALIASES:
    return [_CMD_ALIASES[cmd]]
  name = cmd[1:]
  if name in _FUNCS and name not in ("sqrt", "abs", "binom"):  # \sqrt[n]{x} and \binom{n}{k} are commands
    return [("func", name)]
  if name in _GREEK:
    return [("sym", name)]
  return [("cmd", cmd)]


def tokenize(text: str) -> list[tuple[str, str]]:
  """Split `text` into tokens; raises ParseError on any character outside the grammar."""
  if len(text) > MAX_CHARS:
    raise ParseError("answer too long")
  tokens: list[tuple[str, str]] = []
  pos = 0
  while pos < len(text):
    m = _TOKEN_RE.match(text, pos)
    if m is None:
      raise ParseError(f"unexpected character {text[pos]!r}")
    pos = m.end()
    kind, value = m.lastgroup, m.group()
    if kind == "space":
      continue
    if kind == "env":
      name = value[value.index("{") + 1:-1]
      tokens.append(("env_begin" if value.startswith("\\begin") else "env_end", name))
    elif kind == "num":
      tokens.append(("num", value))
    elif kind == "cmd":
      tokens.extend(_command_token(value))
    elif kind == "word" and tokens[-2:] == [("op", "_"), ("op", "{")] and len(value) <= 8:
      tokens.append(("sym", value))  # S_{MBCN}: the subscript is one name, not a product of letters
    elif kind == "word" and value.isupper() and tokens[-1:] == [("op", "{")] and text.startswith("}", pos):
      tokens.extend(("sym", c) for c in value)  # \frac{NO}{BO}: points N and O, not the word "no"
    elif kind == "word" and (value in _PAREN_FUNCS or value in _MANY_ARGUMENTS) and text.startswith("(", pos):
      tokens.append(("func", value))
    elif kind == "word":
      tokens.extend(_split_word(value))
    elif value in _OP_RELS:
      tokens.append(("rel", _OP_RELS[value]))
    else:
      tokens.append(("op", "^" if value == "**" else value))
    if len(tokens) > MAX_TOKENS:
      raise ParseError("too many tokens")
  return tokens


# ---------------------------------------------------------------------------------------------------------------
# Bounded arithmetic: every numeric result is checked before (powers) or right after (sums, products) sympy builds it.


def _scalar(v):
  """`v` as a sympy scalar expression, or ParseError for structures (tuples, sets, ...) used in arithmetic."""
  if isinstance(v, sympy.Expr):
    return v
  raise ParseError("arithmetic on a non-scalar")


def _rational_bits(q) -> int:
  """Bits of an exact rational's numerator plus denominator."""
  return int(q.p).bit_length() + int(q.q).bit_length()


def _checked(v):
  """Refuse exact rationals that grew past MAX_RATIONAL_BITS (sums and products of bounded terms)."""
  if isinstance(v, sympy.Rational) and _rational_bits(v) > MAX_RATIONAL_BITS:
    raise ParseError("number too large")
  return v


def _cells(m: Matrix) -> int:
  return len(m.rows) * len(m.rows[0])


def _same_shape(a: Matrix, b: Matrix) -> bool:
  return len(a.rows) == len(b.rows) and len(a.rows[0]) == len(b.rows[0])


def _add(a, b):
  """a + b for scalars, or for two matrices of one shape (cell by cell)."""
  if isinstance(a, Matrix) and isinstance(b, Matrix):
    if not _same_shape(a, b):
      raise ParseError("adding matrices of different shapes")
    return Matrix(tuple(tuple(_add(x, y) for x, y in zip(ra, rb)) for ra, rb in zip(a.rows, b.rows)))
  return _checked(_scalar(a) + _scalar(b))


def _mul(a, b):
  """a * b for scalars, a scalar times a matrix, or a matrix product (at most MAX_ITEMS cells, small inner size)."""
  if isinstance(a, Matrix) and isinstance(b, Matrix):
    inner = len(a.rows[0])
    if inner != len(b.rows) or len(a.rows) * len(b.rows[0]) > MAX_ITEMS or inner > 8:
      raise ParseError("matrix product of these shapes")
    return Matrix(tuple(tuple(_sum_of(_mul(row[k], b.rows[k][j]) for k in range(inner)) for j in range(len(b.rows[0])))
                        for row in a.rows))
  if isinstance(a, Matrix) or isinstance(b, Matrix):
    matrix, scalar = (a, b) if isinstance(a, Matrix) else (b, a)
    return Matrix(tuple(tuple(_mul(_scalar(scalar), x) for x in row) for row in matrix.rows))
  return _checked(_scalar(a) * _scalar(b))


def _sum_of(values):
  total = sympy.Integer(0)
  for v in values:
    total = _add(total, v)
  return total


def _div(a, b):
  if isinstance(a, Matrix):
    return _mul(a, _div(sympy.Integer(1), b))
  b = _scalar(b)
  if b.is_zero:
    raise ParseError("division by zero")
  return _checked(_scalar(a) / b)


def _neg(a):
  if isinstance(a, Matrix):
    return _mul(sympy.Integer(-1), a)
  return -_scalar(a)


def _modulo(a, b):
  """a mod b (\\bmod): integers give the remainder; symbols stay a sympy Mod."""
  a, b = _scalar(a), _scalar(b)
  if b == 0:
    raise ParseError("modulo by zero")
  return sympy.Mod(a, b)


def _repeating(text: str, block: str):
  """The decimal `text` (`0.1`, `3.`, `.`) followed by the digits `block` repeating forever, an exact rational."""
  head = text.rstrip(".") or "0"
  shift = len(head.split(".", 1)[1]) if "." in head else 0
  value = Fraction(head) + Fraction(int(block), (10 ** len(block) - 1) * 10**shift)
  return _checked(sympy.Rational(value.numerator, value.denominator))


def _max_literal_bits(expr) -> int:
  """Largest bit size of an exact rational inside `expr` (1 when there is none, e.g. pi)."""
  return max([_rational_bits(r) for r in expr.atoms(sympy.Rational)] + [1])


def _numeric_magnitude(expr) -> float:
  """|expr| as a float for a numeric expression whose own size is already bounded."""
  value = complex(sympy.N(expr, 15))
  return abs(value)


def power(base, exp):
  """base ** exp, refused when an exact result would be huge or a numeric exponent is out of range."""
  base, exp = _scalar(base), _scalar(exp)
  if exp.free_symbols:
    return sympy.Pow(base, exp)  # symbolic exponents stay unevaluated (2^x, 9^{9^x})
  if base == sympy.I and isinstance(exp, sympy.Integer):
    exp = exp % 4  # i^n repeats with period 4: i^{2222222222} is i^2, whatever the exponent's size
  if isinstance(exp, sympy.Rational):
    if abs(exp.p) > MAX_EXPONENT * exp.q or exp.q > 1000:
      raise ParseError("exponent too large")
    size = abs(exp.p) / exp.q
  else:
    size = _numeric_magnitude(exp)
    if not size <= MAX_EXPONENT:  # also catches nan
      raise ParseError("exponent too large")
  if base.free_symbols:
    if not base.is_Symbol and size > MAX_COMPOUND_EXPONENT:
      raise ParseError("exponent too large for a compound base")
  elif _max_literal_bits(base) * max(size, 1.0) > MAX_POWER_BITS:
    raise ParseError("power too large")
  return _checked(sympy.Pow(base, exp))


def factorial(n):
  """n! for a symbol or a non-negative integer up to MAX_FACTORIAL."""
  n = _scalar(n)
  if n.free_symbols:
    return sympy.factorial(n)
  if not (isinstance(n, sympy.Integer) and 0 <= n <= MAX_FACTORIAL):
    raise ParseError("factorial argument out of range")
  return sympy.factorial(n)


def binomial(n, k):
  """C(n, k) with numeric n bounded like a factorial."""
  n, k = _scalar(n), _scalar(k)
  for v in (n, k):
    if not v.free_symbols and not (isinstance(v, sympy.Integer) and abs(v) <= MAX_FACTORIAL):
      raise ParseError("binomial argument out of range")
  return sympy.binomial(n, k)


def _falling_factorial(n, k):
  """n! / (n - k)!, the permutations of k out of n, bounded like a factorial."""
  return _div(factorial(n), factorial(_add(n, -_scalar(k))))


def root(radicand, index=None):
  """The square root, or the index-th root; odd roots of negative numbers are real (cbrt(-8) = -2)."""
  radicand = _scalar(radicand)
  if index is None:
    return sympy.sqrt(radicand)
  index = _scalar(index)
  if index.free_symbols:
    return sympy.Pow(radicand, 1 / index)
  if not (isinstance(index, sympy.Integer) and 1 <= index <= 100):
    raise ParseError("root index out of range")
  if index % 2 == 1 and radicand.is_number and radicand.is_extended_negative:
    return -sympy.root(-radicand, index)
  return sympy.root(radicand, index)


def _bounded_exp(arg):
  """exp(arg) with a bounded numeric argument (exp(10^{100}) would make numeric evaluation crawl)."""
  arg = _scalar(arg)
  if not arg.free_symbols and not _numeric_magnitude(arg) <= MAX_EXPONENT:
    raise ParseError("exp argument too large")
  return sympy.exp(arg)


def _substitute(expr, symbol, value):
  """expr with `symbol` replaced by `value`, rebuilt through the bounded constructors above, so a term such as
  10^{10^k} is refused at k = 1000 rather than computed (a plain xreplace would let sympy evaluate it)."""
  if expr == symbol:
    return value
  if not expr.has(symbol):
    return expr
  args = [_substitute(a, symbol, value) for a in expr.args]
  if isinstance(expr, sympy.Add):
    return _sum_of(args)
  if isinstance(expr, sympy.Mul):
    product = sympy.Integer(1)
    for a in args:
      product = _mul(product, a)
    return product
  if isinstance(expr, sympy.Pow):
    return power(*args)
  if isinstance(expr, sympy.factorial):
    return factorial(*args)
  if isinstance(expr, sympy.binomial):
    return binomial(*args)
  if isinstance(expr, sympy.exp):
    return _bounded_exp(*args)
  if isinstance(expr, (sympy.Function, sympy.Abs, sympy.floor, sympy.ceiling, sympy.Mod)):
    return expr.func(*args)
  raise ParseError(f"cannot sum over {type(expr).__name__}")


# ---------------------------------------------------------------------------------------------------------------


class _Parser:
  """Recursive descent over the token list. Grammar, loosest binding first:

      seq      := union ((',' | ';') union)*
      union    := relation ('\\cup' relation)*
      relation := ratio (rel ratio)*       (after \\in: ratio ('\\cup' ratio)*, the set the variable lies in)
      ratio    := expr (':' expr)?         (an integer ':' two digits at the end: a time of day, kept as written)
      expr     := term (('+' | '-' | '\\pm') term)*
      term     := factor (('*' | '/') factor | <implicit> power)*
      factor   := ('-' | '+' | '\\pm') factor | power
      power    := postfix ('^' exponent)?
      postfix  := atom '!'*
      atom     := number | symbol | constant | function | ( ... ) | [ ... ] | { ... } | \\{ ... \\} | | ... |
                  \\frac \\sqrt \\nthroot \\binom \\lfloor \\lceil \\begin{pmatrix} \\begin{cases} \\mathbb{R} |
                  \\emptyset | \\sum_{k=a}^{b} term | \\prod_{k=a}^{b} term
  """

  def __init__(self, tokens):
    self.tokens = list(tokens) + [("end", "")]
    self.i = 0
    self.depth = 0
    self.abs_depth = 0
    self.inexact = False
    self.pm_count = 0
    self.bound = {}  # summation indices in scope: i and e there name the index, not the constants

  # -- token helpers
  def peek(self):
    return self.tokens[self.i]

  def take(self):
    tok = self.tokens[self.i]
    if tok[0] != "end":
      self.i += 1
    return tok

  def at(self, kind, text=None) -> bool:
    tok = self.tokens[self.i]
    return tok[0] == kind and (text is None or tok[1] == text)

  def expect(self, kind, text):
    if not self.at(kind, text):
      raise ParseError(f"expected {text!r}, got {self.peek()[1]!r}")
    return self.take()

  def enter(self):
    self.depth += 1
    if self.depth > MAX_DEPTH:
      raise ParseError("nesting too deep")

  def leave(self):
    self.depth -= 1

  # -- grammar
  def parse(self):
    whole_list = self.square_brackets_around_all()
    items = self.seq()
    if not self.at("end"):
      raise ParseError(f"unexpected {self.peek()[1]!r}")
    value = items[0] if len(items) == 1 else ListOf(tuple(items))
    if whole_list and isinstance(value, sympy.Expr):
      # A whole answer `[5]` is a one-element list (or a vector), not the number 5: neither answers the other.
      # (A bracketed matrix, [\begin{array}...\end{array}], stays the matrix.)
      return Bracket("[", "]", (value,))
    return value

  def square_brackets_around_all(self) -> bool:
    """Whether the first token is a `[` whose matching close is the last token."""
    if self.tokens[0] != ("op", "["):
      return False
    depth = 0
    for i, (kind, text) in enumerate(self.tokens[:-1]):
      if kind == "op" and text in "([":
        depth += 1
      elif kind == "op" and text in ")]":
        depth -= 1
        if depth == 0:
          return text == "]" and i == len(self.tokens) - 2
    return False

  def seq(self) -> list:
    items = [self.union()]
    while self.at("op", ",") or self.at("op", ";"):
      self.take()
      items.append(self.union())
      if len(items) > MAX_ITEMS:
        raise ParseError("too many items")
    return items

  def union(self):
    parts = [self.relation()]
    while self.at("op", "∪"):
      self.take()
      parts.append(self.relation())
    return parts[0] if len(parts) == 1 else UnionOf(tuple(parts))

  def relation(self):
    exprs, ops = [self.ratio()], []
    while self.at("rel"):
      ops.append(self.take()[1])
      exprs.append(self.ratio())
      if ops[-1] == "in" and self.at("op", "∪"):  # x \in A \cup B: the union is the set x lies in
        parts = [exprs[-1]]
        while self.at("op", "∪"):
          self.take()
          parts.append(self.ratio())
        exprs[-1] = UnionOf(tuple(parts))
    return exprs[0] if not ops else Relation(tuple(exprs), tuple(ops))

  def ratio(self):
    """`a : b`, a ratio, is the number a / b (3:4 answers 6:8 and 0.75); one colon at most. An integer colon two
    digits that ends the answer (12:00, 4:30, 7:32) may be a time of day: it is kept as written, an opaque value
    equal only to the same text (so V_1:V_2 = 11:21 still answers 11:21)."""
    start = self.i
    value = self.expr()
    if self.at("op", ":"):
      self.take()
      after = self.tokens[self.i:self.i + 2]
      hours, minutes = self.tokens[start], after[0]
      if (self.i - start == 2 and hours[0] == "num" and hours[1].isdigit() and minutes[0] == "num"
          and len(minutes[1]) == 2 and minutes[1].isdigit() and after[1][0] in ("end", "rel")):
        self.take()
        return sympy.Symbol(f"{hours[1]}:{minutes[1]}", real=True)
      value = _div(value, self.expr())
    return value

  def expr(self):
    self.enter()
    acc = self.term()
    while self.at("op") and self.peek()[1] in "+-±∓":
      op = self.take()[1]
      rhs = self.term()
      if op == "+":
        acc = _add(acc, rhs)
      elif op == "-":
        acc = _add(acc, _neg(rhs))
      else:
        acc = _add(acc, _mul(self.pm_symbol(op), rhs))
    self.leave()
    return acc

  def term(self):
    single_integer = self.at("num") and self.peek()[1].isdigit()
    acc = self.factor()
    if single_integer and isinstance(acc, sympy.Integer) and (self.at("cmd", "\\frac") or self.at("num")):
      fraction = self.mixed_fraction()
      if fraction is not None:  # 2\frac{1}{4} and 2 1/4 are the mixed number 9/4
        acc = _add(acc, fraction)
    while True:
      if self.at("op", "*"):
        self.take()
        acc = _mul(acc, self.factor())
      elif self.at("op", "mod"):
        self.take()
        acc = _modulo(acc, self.factor())
      elif self.at("op", "/"):
        self.take()
        acc = _div(acc, self.factor())
      elif self.starts_atom():
        if self.at("num") and self.tokens[self.i - 1][0] == "num" and self.tokens[self.i - 2] != ("op", "^"):
          raise ParseError("two numbers side by side")  # "1 2" or "5 6" is no product (nor a number); 2^6 3^5 is
        acc = _mul(acc, self.power())
      else:
        return acc

  def mixed_fraction(self):
    """After an integer: `\\frac{a}{b}` / `\\frac ab` / `a/b` (not followed by more of a term) with integer a < b,
    consumed as the fraction part of a mixed number; None (nothing consumed) for anything else, which then
    multiplies as usual (2\\frac{\\pi}{3})."""
    toks = self.tokens[self.i:self.i + 7]
    kinds = [t[0] + ":" + t[1] for t in toks]
    if toks[0][0] == "num" and len(toks) >= 3 and kinds[1] == "op:/" and toks[2][0] == "num" \
        and not (len(toks) > 3 and toks[3][0] in ("num", "sym", "const", "func") or kinds[3:4] == ["op:^"]):
      num, den, length = toks[0][1], toks[2][1], 3  # "1 1/2"
    elif kinds[:2] == ["cmd:\\frac", "op:{"] and len(toks) == 7 and toks[2][0] == "num" and kinds[3:5] == ["op:}", "op:{"] \
        and toks[5][0] == "num" and kinds[6] == "op:}":
      num, den, length = toks[2][1], toks[5][1], 7
    elif len(toks) >= 2 and toks[1][0] == "num" and len(toks[1][1]) == 2 and toks[1][1].isdigit():
      num, den, length = toks[1][1][0], toks[1][1][1], 2
    else:
      return None
    if not (num.isdigit() and den.isdigit()) or not 0 < int(num) < int(den):
      return None
    self.i += length
    return sympy.Rational(int(num), int(den))

  def factor(self):
    self.enter()
    if self.at("op", "-"):
      self.take()
      value = _neg(self.factor())
    elif self.at("op", "+"):
      self.take()
      value = self.factor()
    elif self.at("op", "±") or self.at("op", "∓"):
      value = _mul(self.pm_symbol(self.take()[1]), self.factor())
    else:
      value = self.power()
    self.leave()
    return value

  def power(self):
    base = self.postfix()
    if self.at("op", "^"):
      self.take()
      return power(base, self.exponent())
    if self.at("op", "_"):
      raise ParseError("subscript on a non-symbol")
    return base

  def exponent(self):
    if self.at("op", "{"):
      return self.braced()
    return self.factor()

  def postfix(self):
    value = self.atom()
    while self.at("op", "!"):
      self.take()
      value = factorial(value)
    return value

  def starts_atom(self) -> bool:
    """Whether the next token can start an implicitly multiplied factor (2x, 2\\pi, x(y+1), 3\\sqrt{2})."""
    kind, text = self.peek()
    if kind in ("num", "sym", "const", "func", "env_begin"):
      return True
    if kind == "op":
      return text in "({" or (text == "|" and self.abs_depth == 0)
    return kind == "cmd" and text in ("\\frac", "\\sqrt", "\\nthroot", "\\binom", "\\lfloor", "\\lceil")

  def atom(self):
    self.enter()
    kind, text = self.take()
    if kind == "num" and self.at("op", "_"):  # a numeral in another base, 664_7: compared as written
      self.take()
      value = sympy.Symbol(f"{text}_{self.subscript()}", real=True)
    elif kind == "num":
      value = self.number(text)
    elif kind == "sym" and len(text) == 1 and self.event_ahead():  # P(X = 0): the name of a probability
      value = self.event_name(text)
    elif kind == "sym":
      value = self.symbol(text)
    elif kind == "const":
      value = _CONSTS[text]
    elif kind == "func":
      value = self.function(text)
    elif kind == "op" and text in "([":
      value = self.bracket(text)
    elif kind == "op" and text == "{":
      value = self.group_body()
    elif kind == "op" and text == "|":
      value = self.absolute()
    elif kind == "cmd":
      value = self.command(text)
    elif kind == "env_begin":
      value = self.environment(text)
    else:
      raise ParseError(f"unexpected {text!r}")
    self.leave()
    return value

  # -- atoms
  def number(self, text: str):
    if len(text) > MAX_LITERAL_DIGITS:
      raise ParseError("literal too long")
    if "." in text and "e" not in text.lower() and self.at("cmd", "\\overline"):
      return self.repeating_decimal(text)
    if "." in text and "e" not in text.lower() and self.at("cmd", "\\dot"):
      return self.dotted_decimal(text)
    if "." in text:
      self.inexact = True
    frac = Fraction(text)
    return _checked(sympy.Rational(frac.numerator, frac.denominator))

  def repeating_decimal(self, text: str):
    """`0.1\\overline{6}`: the digits in the bar repeat forever, an exact rational (1/6); `.\\overline{3}` is 1/3."""
    self.take()
    self.expect("op", "{")
    kind, digits = self.take()
    if kind != "num" or not digits.isdigit() or len(digits) > MAX_LITERAL_DIGITS:
      raise ParseError("bad repeating digits")
    self.expect("op", "}")
    return _repeating(text, digits)

  def dotted_decimal(self, text: str):
    """`0.1\\dot{6}` (1/6), `0.\\dot{8}\\dot{1}` (9/11), `3.\\dot{1}4285\\dot{7}` (22/7): dots over the first and the
    last digit of the block that repeats, one dot over a digit that repeats alone. One dot followed by more digits
    marks no block (`3.\\dot{1}42857`), and is refused."""
    block = self.dotted_digit()
    if self.at("num") and self.peek()[1].isdigit() and self.tokens[self.i + 1] == ("cmd", "\\dot"):
      block += self.take()[1]
    if self.at("cmd", "\\dot"):
      block += self.dotted_digit()
    if self.at("num") or self.at("cmd", "\\dot") or len(block) > MAX_LITERAL_DIGITS:
      raise ParseError("bad repeating block")
    return _repeating(text, block)

  def dotted_digit(self) -> str:
    self.expect("cmd", "\\dot")
    self.expect("op", "{")
    kind, digit = self.take()
    if kind != "num" or len(digit) != 1 or not digit.isdigit():
      raise ParseError("bad repeating digit")
    self.expect("op", "}")
    return digit

  def symbol(self, name: str):
    if self.at("op", "_"):
      self.take()
      if self.at("op", "{") and any(tok[0] == "op" and tok[1] in "+-" for tok in self._brace_contents()):
        return sympy.Function(name, real=True)(self.braced())  # a_{n+1}, F_{n-k-1}: a sequence at an index
      return sympy.Symbol(f"{name}_{self.subscript()}", real=True)
    if name in self.bound:
      return self.bound[name]
    if name == "e":
      return sympy.E
    if name == "i":
      return sympy.I
    return sympy.Symbol(name, real=True)

  def event_ahead(self) -> bool:
    """Whether `( letter rel value )` follows, a letter before it naming an event's probability: P(X = 0),
    P(X <= 2). Read otherwise it would be a product with a relation inside, which is no value."""
    toks = self.tokens[self.i:self.i + 5]
    return (len(toks) == 5 and toks[0] == ("op", "(") and toks[1][0] == "sym" and len(toks[1][1]) == 1
            and toks[2][0] == "rel" and toks[2][1] != "in" and toks[3][0] in ("num", "sym") and len(toks[3][1]) <= 8
            and toks[4] == ("op", ")"))

  def event_name(self, letter: str):
    """`P(X = 0)` as one opaque name (a symbol named as written): names are compared, never their parts."""
    toks = [self.take() for _ in range(5)]
    return sympy.Symbol(f"{letter}({toks[1][1]}{toks[2][1]}{toks[3][1]})", real=True)

  def series(self, cmd: str):
    """`\\sum_{k=a}^{b} term` / `\\prod`: with integer bounds at most MAX_SERIES_TERMS apart, computed term by term
    (bounded like any sum or product); with symbolic bounds kept as sympy's unevaluated Sum / Product, equal to
    what has the same form (F_n = \\sum_{k=0}^{n-1} F_k F_{n-k-1} against the factors swapped)."""
    self.expect("op", "_")
    self.expect("op", "{")
    kind, name = self.take()
    if kind != "sym" or self.at("op", "_"):
      raise ParseError("bad summation index")
    index = sympy.Symbol(name, real=True)  # i and e name the index here, not the constants
    self.expect("rel", "=")
    lower = _scalar(self.expr())
    self.expect("op", "}")
    self.expect("op", "^")
    upper = _scalar(self.argument())
    outer, self.bound = self.bound, {**self.bound, name: index}
    term = _scalar(self.term())
    self.bound = outer
    if lower.is_Integer and upper.is_Integer:
      if not -1 <= int(upper) - int(lower) < MAX_SERIES_TERMS:
        raise ParseError("too many terms")
      result = sympy.Integer(0 if cmd == "\\sum" else 1)
      for i in range(int(lower), int(upper) + 1):
        value = _substitute(term, index, sympy.Integer(i))
        result = _add(result, value) if cmd == "\\sum" else _mul(result, value)
      return result
    return (sympy.Sum if cmd == "\\sum" else sympy.Product)(term, (index, lower, upper))

  def subscript(self) -> str:
    """The raw text of a subscript: one token, or letters and digits in braces."""
    if not self.at("op", "{"):
      kind, text = self.take()
      if kind not in ("num", "sym"):
        raise ParseError("bad subscript")
      return text
    self.take()
    parts = []
    while not self.at("op", "}"):
      kind, text = self.take()
      if kind not in ("num", "sym") or len(parts) > 8 or len(text) > 8:
        raise ParseError("bad subscript")
      parts.append(text)
    self.take()
    return "".join(parts)

  def _brace_contents(self) -> list:
    """The tokens of the brace group that starts at the current token (without the braces)."""
    depth = 0
    for j in range(self.i, len(self.tokens)):
      if self.tokens[j] == ("op", "{"):
        depth += 1
      elif self.tokens[j] == ("op", "}"):
        depth -= 1
        if depth == 0:
          return self.tokens[self.i + 1:j]
    return []

  def pm_symbol(self, op: str):
    self.pm_count += 1
    if self.pm_count > MAX_PM:
      raise ParseError("too many \\pm")
    s = sympy.Symbol(f"{PM_PREFIX}{self.pm_count}")
    return s if op == "±" else -s

  def function(self, name: str):
    base = exponent = None
    if name in _TWO_ARGUMENTS:
      return self.two_arguments(name)
    if name in _MANY_ARGUMENTS:
      return self.many_arguments(name)
    if name == "log" and self.at("op", "_"):
      self.take()
      if self.peek()[0] == "num" and self.tokens[self.i + 1:self.i + 2] == [("op", "(")]:
        base = sympy.Rational(self.take()[1])  # plain log_10(x): the whole numeral is the base (LaTeX reads 1)
      else:
        base = self.argument()
    if self.at("op", "^"):
      self.take()
      exponent = self.exponent()
    if name == "log" and base is None and exponent is None and self.at("op", "("):
      arg, base = self.log_arguments()
    else:
      arg = self.function_argument()
    if exponent is not None and exponent == -1 and name in _INVERSE:
      return _INVERSE[name](arg)  # \sin^{-1} x is arcsin, not 1 / sin
    if base is not None:
      base = _scalar(base)
      if base.is_number and (base.is_positive is False or base == 1):
        raise ParseError("logarithm base must be positive and not 1")
      value = _div(sympy.log(arg), sympy.log(base))
    elif name == "exp":
      value = _bounded_exp(arg)
    else:
      value = (_PAREN_FUNCS.get(name) or _FUNCS[name])(arg)
    return value if exponent is None else power(value, exponent)

  def two_arguments(self, name: str):
    """binom(n, k), nCr(n, k), nPr(n, k), gcd(a, b), lcm(a, b): a parenthesised pair of scalars."""
    self.expect("op", "(")
    n = _scalar(self.expr())
    self.expect("op", ",")
    k = _scalar(self.expr())
    self.expect("op", ")")
    return _TWO_ARGUMENTS[name](n, k)

  def many_arguments(self, name: str):
    """max(a, b, ...) and min(a, b, ...): a parenthesised list of one or more scalars."""
    self.expect("op", "(")
    values = [_scalar(self.expr())]
    while self.at("op", ","):
      self.take()
      values.append(_scalar(self.expr()))
    self.expect("op", ")")
    return _MANY_ARGUMENTS[name](*values)

  def log_arguments(self):
    """`(x)` or `(x, b)` after log: plain notation's two-argument log(x, b) is the logarithm of x to base b."""
    self.take()
    arg = _scalar(self.expr())
    base = None
    if self.at("op", ","):
      self.take()
      base = _scalar(self.expr())
    self.expect("op", ")")
    return arg, base

  def function_argument(self):
    """`(x)`, `{x}`, or a run of simple factors as in `\\sin 2x` (stops at the next function: `\\sin x \\cos x`)."""
    if self.at("op", "("):
      self.take()
      value = self.expr()
      self.expect("op", ")")
      return _scalar(value)
    if self.at("op", "{"):
      value = self.braced()
      if self.at("op", "^"):  # \log{x}^3: TeX sets the power on the group before it, so it is log(x^3)
        self.take()
        value = power(value, self.exponent())
      return value
    value = self.power()
    while (self.peek()[0] in ("num", "sym", "const") or self.at("cmd", "\\frac") or self.at("cmd", "\\sqrt")
           or self.at("cmd", "\\nthroot")):
      value = _mul(value, self.power())
    return _scalar(value)

  def argument(self):
    """A LaTeX macro argument: `{...}` or a single token (`\\frac12` is 1/2, `\\sqrt2` is sqrt(2))."""
    if self.at("op", "{"):
      return self.braced()
    kind, text = self.peek()
    if kind == "num" and len(text) > 1:
      if not text[0].isdigit():
        raise ParseError("bad macro argument")
      self.tokens[self.i] = ("num", text[1:])  # the rest of the digits stay in the stream
      return sympy.Integer(int(text[0]))
    return _scalar(self.atom())

  def braced(self):
    """`{ expr }` where a single scalar is required."""
    self.expect("op", "{")
    value = self.group_body()
    return _scalar(value)

  def group_body(self):
    """The inside of `{ ... }` after the opening brace: one item, or several as an unordered list."""
    items = self.seq()
    self.expect("op", "}")
    return items[0] if len(items) == 1 else ListOf(tuple(items))

  def bracket(self, open_: str):
    items = self.seq()
    kind, close = self.take()
    if kind != "op" or close not in ")]":
      raise ParseError("unclosed bracket")
    if len(items) == 1:
      if (open_, close) not in (("(", ")"), ("[", "]")):
        raise ParseError("mismatched brackets")
      return items[0]
    return Bracket(open_, close, tuple(items))

  def nthroot(self):
    """The \\nthroot macro some answer checkers define: `\\nthroot[n]{x}` is `\\sqrt[n]{x}`, and `\\nthroot{n}{x}`
    the n-th root of x only where the order is plain, n a whole number and x not one: other definitions put the
    radicand first, so `\\nthroot{3}{8}` could be either root and is refused."""
    if self.at("op", "["):
      self.take()
      index = self.expr()
      self.expect("op", "]")
      return root(self.argument(), index)
    index, radicand = self.argument(), self.argument()
    if not isinstance(index, sympy.Integer) or isinstance(radicand, sympy.Integer):
      raise ParseError("\\nthroot with an unclear order of its arguments")
    return root(radicand, index)

  def absolute(self):
    self.abs_depth += 1
    value = self.expr()
    self.expect("op", "|")
    self.abs_depth -= 1
    return sympy.Abs(_scalar(value))

  def command(self, cmd: str):
    if cmd == "\\frac":
      num = self.argument()
      return _div(num, self.argument())
    if cmd == "\\sqrt":
      index = None
      if self.at("op", "["):
        self.take()
        index = self.expr()
        self.expect("op", "]")
      return root(self.argument(), index)
    if cmd == "\\nthroot":
      return self.nthroot()
    if cmd == "\\abs":  # the \\abs{x} macro of the physics and mathtools packages: |x|
      return sympy.Abs(_scalar(self.argument()))
    if cmd == "\\binom":
      n = self.argument()
      return binomial(n, self.argument())
    if cmd in ("\\lfloor", "\\lceil"):
      value = _scalar(self.expr())
      self.expect("cmd", "\\rfloor" if cmd == "\\lfloor" else "\\rceil")
      return sympy.floor(value) if cmd == "\\lfloor" else sympy.ceiling(value)
    if cmd == "\\{":
      if self.at("cmd", "\\}"):
        self.take()
        return SetOf(())
      if self.tokens[self.i][0] == "sym" and self.tokens[self.i + 1] == ("op", "|"):  # \{x | x > 2\}
        variable = self.symbol(self.take()[1])
        self.take()
        condition = self.union()
        self.expect("cmd", "\\}")
        return Builder(variable, condition)
      items = self.seq()
      self.expect("cmd", "\\}")
      return SetOf(tuple(items))
    if cmd in ("\\sum", "\\prod"):
      return self.series(cmd)
    if cmd == "\\emptyset":
      return SetOf(())
    if cmd == "\\mathbb":
      self.expect("op", "{")
      self.expect("sym", "R")
      self.expect("op", "}")
      return Bracket("(", ")", (-sympy.oo, sympy.oo))
    raise ParseError(f"unsupported command {cmd!r}")

  def environment(self, name: str):
    """pmatrix / bmatrix / matrix / array rows: cells separated by & and rows by \\\\; a system (cases, aligned,
    gathered, ...): its rows, & being alignment only, as an unordered list (a system is the set of its equations)."""
    if name in _SYSTEMS:
      return self.system(name)
    if name not in ("pmatrix", "bmatrix", "Bmatrix", "matrix", "smallmatrix", "array", "vmatrix"):
      raise ParseError(f"unsupported environment {name!r}")
    if name == "array" and self.at("op", "{"):  # column spec such as {cc} or {|c|c|}
      while not self.at("op", "}"):
        if self.take()[0] == "end":
          raise ParseError("unclosed array spec")
      self.take()
    rows, cells = [[]], 0
    while not self.at("env_end"):
      rows[-1].append(self.union())
      cells += 1
      if cells > MAX_ITEMS:
        raise ParseError("matrix too large")
      if self.at("op", "&"):
        self.take()
      elif self.at("cmd", "\\\\"):
        self.take()
        rows.append([])
      elif not self.at("env_end"):
        raise ParseError(f"unexpected {self.peek()[1]!r} in matrix")
    if self.take()[1] != name:
      raise ParseError("mismatched \\end")
    if not rows[-1]:
      rows.pop()
    if not rows or len({len(r) for r in rows}) != 1:
      raise ParseError("ragged matrix")
    if name == "vmatrix":  # a determinant
      if len(rows) != len(rows[0]) or len(rows) > 4:
        raise ParseError("determinant of a non-square or large matrix")
      return _checked(sympy.Matrix([[_scalar(c) for c in r] for r in rows]).det(method="berkowitz"))
    return Matrix(tuple(tuple(r) for r in rows))

  def system(self, name: str):
    """The rows of a cases / aligned environment up to its \\end, alignment marks dropped: `x &= 1 \\\\ y &= 2` is
    the list x = 1, y = 2 (one row is that row)."""
    depth, j = 0, self.i
    while self.tokens[j][0] != "end" and not (self.tokens[j][0] == "env_end" and depth == 0):
      depth += {"env_begin": 1, "env_end": -1}.get(self.tokens[j][0], 0)
      j += 1
    self.tokens[self.i:j] = [tok for tok in self.tokens[self.i:j] if tok != ("op", "&")]
    rows = []
    while not self.at("env_end") and not self.at("end"):
      rows.append(self.union())
      if len(rows) > MAX_ITEMS:
        raise ParseError("system too large")
      if self.at("cmd", "\\\\") or self.at("op", ",") or self.at("op", ";"):
        self.take()
      elif not self.at("env_end"):
        raise ParseError(f"unexpected {self.peek()[1]!r} in {name}")
    if self.take() != ("env_end", name):
      raise ParseError("mismatched \\end")
    if not rows:
      raise ParseError("empty system")
    return rows[0] if len(rows) == 1 else ListOf(tuple(rows))


def parse(text: str) -> Parsed:
  """Parse a normalised answer string; raises ParseError (never anything that executes the text)."""
  parser = _Parser(tokenize(text))
  value = parser.parse()
  return Parsed(value, parser.inexact)
