"""The eval-free LaTeX parser and the sympy comparison, in-process (no worker pool)."""

from __future__ import annotations

import pytest
import sympy

from r1jax.rewards import _equiv, _parser
from r1jax.rewards._parser import Bracket, ListOf, Matrix, ParseError, Relation, SetOf, UnionOf, parse

x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)


@pytest.mark.parametrize("text,value", [
    ("1 + 2 * 3", 7),
    ("2^3^2", 512),  # right associative
    ("-3^2", -9),
    (r"\frac{1}{2} + \frac12", 1),
    (r"\sqrt[3]{8} + \sqrt{9}", 5),
    (r"2 \cdot 3 \times 4 \div 6", 4),
    ("2(3 + 4)", 14),
    ("3!", 6),
    (r"\binom{6}{3}", 20),
    (r"\lfloor 2.7 \rfloor + \lceil 2.1 \rceil", 5),
    ("|-4|", 4),
    ("2x - x", x),
    ("x y", x * y),
    (r"\pi", sympy.pi),
    (r"e^{i \pi}", -1),
    ("1.5e3", 1500),
    (r"\sin^{-1} x", sympy.asin(x)),
    (r"\log_{2} 32", 5),
    ("sqrt(16)", 4),
])
def test_parse_values(text, value):
  assert sympy.simplify(parse(text).value - value) == 0


def test_parse_structures():
  assert parse("x = 3").value == Relation((x, sympy.Integer(3)), ("=",))
  assert parse("1 < x <= 2").value == Relation((1, x, 2), ("<", "<="))
  assert parse("(1, 2]").value == Bracket("(", "]", (1, 2))
  assert parse(r"\{1, 2\}").value == SetOf((1, 2))
  assert parse("1, 2").value == ListOf((1, 2))
  assert isinstance(parse(r"(0, 1) \cup (2, 3)").value, UnionOf)
  assert parse(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}").value == Matrix(((1, 2), (3, 4)))
  assert parse("0.5").inexact and not parse("1/2").inexact
  assert parse("0.1").value == sympy.Rational(1, 10)  # decimals stay exact; only the tolerance changes


@pytest.mark.parametrize("text", [
    "", "(", "1 +", r"\frac{1}{", r"\sqrt[", "(1, 2", "1 2 )", r"\begin{pmatrix} 1 & 2", r"\unknown{3}",
    "apple", "__import__('os')", "os.system('ls')", "lambda: 0", "x; import os", "1 if 2 else 3", "a[0]",
    r"\begin{pmatrix} 1 & 2 \\ 3 \end{pmatrix}", "(1]", "5 @ 3",
])
def test_parse_errors(text):
  with pytest.raises(ParseError):
    parse(text)


@pytest.mark.parametrize("text", [
    "9^{9^{9^{9}}}", "9**9**9**9", "2^{100000}", "10^{10^{10}}", "(10^{1000})^{1000}", "100000!", "1000000!",
    r"\binom{100000}{50000}", "e^{10^{100}}", r"\exp(10^{100})", "2^{3^{50}}", "(x+1)^{1000}",
    "1" * 200, "2^{0.5^{-100}}", "12345678901234567890^{10000}",
])
def test_size_bounds_refuse_before_computing(text):
  with pytest.raises(ParseError):
    parse(text)


def test_depth_and_length_bounds():
  with pytest.raises(ParseError):
    parse("(" * 300 + "1" + ")" * 300)
  with pytest.raises(ParseError):
    parse("-" * 500 + "1")
  with pytest.raises(ParseError):
    parse("1+" * 2000 + "1")
  assert parse("(" * 20 + "1" + ")" * 20).value == 1


def test_symbolic_exponent_stays_symbolic():
  value = parse("9^{9^{x}}").value
  assert value.free_symbols == {x}


def test_judge_statuses():
  assert _equiv.judge("1", "1") == (True, "ok")
  assert _equiv.judge("1", "(") == (False, "parse_error")
  assert _equiv.judge("(", "1") == (False, "gold_parse_error")
  assert _equiv.judge("50", "0.5", gold_percent=True) == (True, "ok")


def test_probe_distinguishes_branches():
  # Positive-only sample points would call these equal.
  assert not _equiv.expr_equal(x, sympy.Abs(x), False)
  assert not _equiv.expr_equal(x, sympy.sqrt(x**2), False)
  assert _equiv.expr_equal(sympy.Abs(x), sympy.sqrt(x**2), False)


def test_relative_tolerance_only_with_decimals():
  third = sympy.Rational(1, 3)
  assert _equiv.expr_equal(third, sympy.Rational(3333333, 10**7), inexact=True)
  assert not _equiv.expr_equal(third, sympy.Rational(3333333, 10**7), inexact=False)
  assert not _equiv.expr_equal(third, sympy.Rational(333, 1000), inexact=True)


def test_nearly_integer_constant_is_not_an_integer():
  # exp(pi sqrt(163)) is within 1e-12 of an integer: only a tight exact tolerance tells them apart.
  near = parse(r"e^{\pi\sqrt{163}}").value
  assert not _equiv.expr_equal(near, sympy.Integer(262537412640768744), False)


def test_bounds_are_module_constants():
  assert _parser.MAX_EXPONENT >= 1000 and _parser.MAX_DEPTH >= 50


def test_matrix_arithmetic_determinants_modulo_numerals_and_mixed_numbers():
  assert parse(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix} + \begin{pmatrix} 5 & 6 \\ 7 & 8 \end{pmatrix}").value \
      == Matrix(((6, 8), (10, 12)))
  assert parse(r"2\begin{pmatrix} 1 \\ x \end{pmatrix}").value == Matrix(((2,), (2 * x,)))
  assert parse(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}\begin{pmatrix} 1 \\ 1 \end{pmatrix}").value \
      == Matrix(((3,), (7,)))  # (1*1 + 2*1, 3*1 + 4*1)
  assert parse(r"\begin{vmatrix} 2 & 1 \\ 1 & 2 \end{vmatrix}").value == 3  # 2*2 - 1*1
  assert parse(r"17 \bmod 5").value == 2
  assert parse("664_7").value == sympy.Symbol("664_7", real=True) != parse("664_{8}").value  # compared as written
  assert parse("2 1/4").value == sympy.Rational(9, 4) and parse(r"1\frac12").value == sympy.Rational(3, 2)


@pytest.mark.parametrize("text", [
    r"\begin{pmatrix} 1 & 2 \end{pmatrix} + \begin{pmatrix} 1 \\ 2 \end{pmatrix}",  # shapes differ
    r"\begin{pmatrix} 1 & 2 \end{pmatrix}\begin{pmatrix} 1 & 2 \end{pmatrix}",  # inner sizes differ
    r"\begin{vmatrix} 1 & 2 \end{vmatrix}",  # not square
    r"\begin{vmatrix} 1&0&0&0&0 \\ 0&1&0&0&0 \\ 0&0&1&0&0 \\ 0&0&0&1&0 \\ 0&0&0&0&1 \end{vmatrix}",  # over 4x4
    r"5 \bmod 0", "1 2", "3 5/4",  # two numbers side by side unless a proper fraction follows an integer
])
def test_new_constructs_refuse_what_they_cannot_bound(text):
  with pytest.raises(ParseError):
    parse(text)


def test_probes_skip_points_where_both_branches_are_complex_but_not_where_one_side_is_real():
  # 1/sqrt(x) and sqrt(1/x) agree wherever they are real; sqrt(x) and sqrt(|x|) differ where only one is.
  assert _equiv.judge(r"\frac{1}{\sqrt{x}}", r"\sqrt{\frac{1}{x}}") == (True, "ok")
  assert _equiv.judge(r"\frac{v}{r} (1 + \frac{s}{r})^{-3/2}", r"\frac{v (\frac{r}{s + r})^{0.5}}{s + r}") == (True, "ok")
  assert _equiv.judge(r"\sqrt{x}", r"\sqrt{|x|}") == (False, "ok")
  assert _equiv.judge(r"\ln(x^2)", r"2 \ln x") == (False, "ok")
  assert _equiv.judge(r"\sqrt{(x-3)(x-5)}", r"\sqrt{x-3}\sqrt{x-5}") == (False, "ok")


def test_decimals_round_exact_values_digit_by_digit():
  # Rounded or truncated to the digits shown, 4+ significant digits, only for values without a finite expansion.
  for gold, prediction in [(r"40\pi", "125.663"), (r"40\pi", "125.664"), (r"\sqrt{2}", "1.414"), ("8/3", "2.6667"),
                           (r"x + \sqrt{2} i", "x + 1.414 i"), (r"1 + \sqrt{2} i", "1 + 1.4142 i"),
                           ("3.33333333", r"\frac{10}{3}")]:
    assert _equiv.judge(gold, prediction) == (True, "ok"), (gold, prediction)
  for gold, prediction in [(r"40\pi", "125.665"), (r"\sqrt{2}", "1.415"), ("1/3", "0.333"), ("5", "4.9999999"),
                           ("0.5", "0.5000001"), ("1000000", "1000001.0"), (r"x + \sqrt{2} i", "x + 1.415 i"),
                           (r"\pi x", "3.1416 x + 0.00001"), ("0.066666793", "0.0666668")]:
    assert _equiv.judge(gold, prediction) == (False, "ok"), (gold, prediction)


def test_ratios_repeating_decimals_and_set_builders():
  assert parse("3:4").value == sympy.Rational(3, 4)
  assert parse(r"0.1\overline{6}").value == sympy.Rational(1, 6) and not parse(r"0.\overline{3}").inexact
  assert _equiv.judge(r"(2, \infty)", r"\{x \mid x > 2\}") == (True, "ok")
  assert _equiv.judge(r"\{x | -2 \leq x < 1\}", "[-2, 1)") == (True, "ok")
  assert _equiv.judge(r"\{x | -2 \leq x < 1\}", "[-2, 1]") == (False, "ok")
  assert _equiv.judge(r"x = \pm 2", "x = 2, x = -2") == (True, "ok")
  assert _equiv.judge(r"x = \pm 2", "x = 2") == (False, "ok")
  assert _equiv.judge(r"f^{-1}(x) = \frac{x+2}{7}", r"\frac{x}{7} + \frac{2}{7}") == (True, "ok")
  assert _equiv.judge("-2", r"-2, -2") == (True, "ok") and _equiv.judge("-2", "-2, 2") == (False, "ok")


@pytest.mark.parametrize("text", ["1/0", r"\frac{3}{0}", "5:0"])
def test_divisions_by_zero_are_no_numbers(text):
  with pytest.raises(ParseError):
    parse(text)


def test_a_time_of_day_is_compared_as_written():
  assert not parse("12:00").value.is_number and parse("3:4").value == sympy.Rational(3, 4)
  assert _equiv.judge("4:30", "4:30") == (True, "ok")
  assert _equiv.judge("4:30", "2:15") == (False, "ok") and _equiv.judge("4:30", r"\frac{2}{15}") == (False, "ok")
  assert _equiv.judge("V_{1}:V_{2}=11:21", "11:21") == (True, "ok")  # a ratio of names given as written
  assert _equiv.judge("V_{1}:V_{2}=11:21", "11:22") == (False, "ok")


def test_sums_and_products():
  assert parse(r"\sum_{k=1}^{10} k").value == 55 and parse(r"\prod_{i=1}^{5} i").value == 120
  assert parse(r"\sum_{i=1}^{3} i^2").value == 14  # i is the index here, not the imaginary unit
  assert _equiv.judge(r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=0}^{n-1} F_{n-k-1} F_k") == (True, "ok")
  assert _equiv.judge(r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=0}^{n-2} F_k F_{n-k-2}") == (False, "ok")
  assert _equiv.judge(r"\sum_{k=1}^{n} k^2", r"\sum_{k=1}^{n} k^3") == (False, "ok")
  for huge in (r"\sum_{k=1}^{1000} 10^{10^{k}}", r"\sum_{k=1}^{10^{6}} k"):  # refused, not computed
    with pytest.raises(ParseError):
      parse(huge)


def test_systems_named_points_and_subscript_words():
  system = parse(r"\begin{aligned} x &= 1 \\ y &= 2 \end{aligned}").value
  assert [r.exprs[1] for r in system.items] == [1, 2]
  assert _equiv.judge(r"\begin{cases} a+b=\frac12 \\ a-b=\sqrt3 \end{cases}",
                      r"\begin{cases} a-b=1.732 \\ a+b=0.5 \end{cases}") == (True, "ok")
  assert _equiv.judge(r"\frac{NO}{BO} = \frac{1}{\sqrt{6}}", r"\frac{1}{\sqrt{6}}") == (True, "ok")
  assert _equiv.judge(r"S_{MBCN}:S=7:32", "7:32") == (True, "ok")
  with pytest.raises(ParseError):
    parse("NO 0")  # outside braces, an upper-case word stays a word


def test_inequalities_equal_up_to_a_positive_factor():
  assert _equiv.judge("x < -2", "-2x > 4") == (True, "ok")
  assert _equiv.judge("x < -2", "-2x < 4") == (False, "ok")  # a negative factor flips the inequality
  assert _equiv.judge("y > 2x", "2x - y > 0") == (False, "ok")
