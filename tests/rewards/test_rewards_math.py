"""Math accuracy: extraction, normalisation and equivalence per category, with correct and incorrect pairs."""

from __future__ import annotations

import pytest

from r1jax.rewards import math as rmath

# (gold, prediction) pairs that must verify, and pairs that must not, per category.
EQUIVALENT = {
    "integer": [("42", "42"), ("-7", "-7"), ("0", "0.0"), ("5", "5.00"), ("1024", "2^{10}"), ("100", "10^2")],
    "decimal": [("0.5", r"\frac{1}{2}"), ("0.25", r"\frac14"), ("0.3", "0.1+0.2"), ("2.50", "2.5"),
                ("0.001", "10^{-3}"), ("1/3", "0.3333333")],
    # A decimal of 4+ significant digits that is the exact value rounded or truncated (either side may be it).
    "rounded": [(r"4\pi", "12.566"), (r"40\pi", "125.663"), ("1.4142", r"\sqrt{2}"), (r"\frac{8}{3}", "2.6667"),
                (r"\frac13, \sqrt3, \pi", "1/3, 1.732, 3.1416"), (r"x + \sqrt{2} i", "x + 1.414i"),
                (r"(\frac{3}{5}, \frac{8}{3}]", "(0.6, 2.6667]")],
    "fraction": [(r"\frac{3}{4}", "3/4"), (r"\dfrac{1}{2}", r"\tfrac12"), (r"-\frac{1}{2}", r"\frac{-1}{2}"),
                 (r"\frac{6}{8}", r"\frac34"), (r"\frac{1}{6}", r"\frac{1}{2}\cdot\frac{1}{3}")],
    "radical": [(r"2\sqrt{2}", r"\sqrt{8}"), (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}"), (r"\sqrt{2}", "2^{1/2}"),
                (r"\sqrt[3]{27}", "3"), (r"\sqrt[3]{-8}", "-2"), (r"2+\sqrt{3}", r"\frac{1}{2-\sqrt{3}}")],
    "pi": [(r"\frac{\pi}{2}", r"\pi/2"), (r"\frac{3\pi}{4}", r"0.75\pi"), (r"36\pi", "36\u03c0"),
           (r"\arctan 1", r"\frac{\pi}{4}")],
    "symbolic": [("x^2+2x+1", "(x+1)^2"), (r"\frac{x^2-1}{x-1}", "x+1"), (r"\sin^2 x + \cos^2 x", "1"),
                 (r"\frac{1}{x}+\frac{1}{y}", r"\frac{x+y}{xy}"), (r"e^{i\pi}", "-1"), (r"\log_2 8", "3"),
                 (r"\sqrt{x^2}", "|x|"), ("5!", "120"), (r"\binom{5}{2}", "10"), (r"2\sin x\cos x", r"\sin 2x")],
    "equation": [("y = 2x + 3", "y=3+2x"), ("y=2x+3", "2x - y + 3 = 0"), ("2x+4y=8", "x+2y=4"), ("x = 5", "5"),
                 ("5", "x=5"), ("k = 7", "7")],
    "interval": [("[1, 3)", "[1,3)"), (r"(0,1)\cup(2,3)", r"(2,3)\cup(0,1)"), (r"x \ge 0", r"[0,\infty)"),
                 (r"-2 \le x \le 2", "[-2, 2]"), (r"(-\infty,\infty)", r"\mathbb{R}"), ("[-2, 2]", r"x \in [-2, 2]"),
                 (r"(-\infty,-1)\cup(1,\infty)", r"\left(-\infty,-1\right)\cup\left(1,\infty\right)")],
    "set": [(r"\{1,2,3\}", r"\{3,2,1\}"), ("1, 2, 3", "3, 1, 2"), (r"\{-1, 1\}", r"\pm 1"),
            (r"1 \pm \sqrt{2}", r"1+\sqrt{2}, 1-\sqrt{2}"), (r"\emptyset", r"\{\}"),
            ("-3, 5", r"x = -3 \text{ or } x = 5")],
    "tuple": [("(1, 2)", "(1,2)"), ("(3, -4)", r"\left(3,-4\right)"), (r"(\frac12, 3)", "(0.5, 3)"),
              ("(-1, 4)", "x=-1, y=4")],
    "matrix": [(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"),
               (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", "(1, 2)")],
    "units_text": [("5", r"5 \text{ cm}"), ("100", r"100 \text{ m}^2"), ("20", r"\$20"), ("20", "20 dollars"),
                   (r"\text{odd}", "odd"), (r"\text{(B)}", "B"), (r"\text{Yes}", "yes")],
    "percent": [(r"25\%", "25"), (r"25\%", "0.25"), (r"40\%", "40 percent")],
    "degree": [(r"30^\circ", "30"), (r"45^{\circ}", "45\u00b0")],
    "thousands": [("1000000", "1,000,000"), ("10000", "10{,}000"), ("1200", r"1,\!200"), ("2,500", "2500")],
    "complex": [("3+4i", "4i+3"), ("2i", "(1+i)^2"), ("5", "|3+4i|")],
}
DIFFERENT = {
    "integer": [("42", "43"), ("-7", "7"), ("8", "2^{3}+1"), ("3", "3.5")],
    "decimal": [("3.14", r"\pi"), (r"\frac{1}{3}", "0.333"), ("1.5", "1.05"), ("1.4143", r"\sqrt{2}"),
                (r"\sqrt{2}", "1.415"), ("5", "4.9999999"), ("0.5", "0.5000001")],
    "fraction": [(r"\frac{2}{3}", r"\frac{3}{2}"), (r"\frac{1}{2}", r"-\frac{1}{2}"), (r"\frac{22}{7}", r"\pi")],
    "radical": [(r"\sqrt{3}", "3^{1/3}"), (r"\sqrt{12}", r"3\sqrt{2}"), (r"\sqrt{2}+\sqrt{3}", r"\sqrt{5}")],
    "pi": [(r"\frac{\pi}{3}", r"\frac{\pi}{6}"), (r"4\pi", "12.567"), (r"4\pi", "12.58")],
    "symbolic": [("2x+1", "2y+1"), ("a+b", "a-b"), ("x", "|x|"), ("(x+1)^3", "x^3+3x^2+3x+3"), ("4!", "12")],
    "equation": [("y=2x+3", "y=3x+2"), ("x=5", "x=-5"), ("y = 2x", "y = 2x + 1")],
    "interval": [(r"(-\infty, 2]", r"(-\infty, 2)"), ("(1,5)", "[1,5]"), (r"(3, \infty)", r"x \geq 3"),
                 ("[-2, 2]", r"-2 \le x \le 2")],  # a gold interval asks for an interval, not an inequality
    "set": [("1,2", "1,2,3"), (r"\{2, 3\}", r"\{2, 4\}"), ("0, 1", "0"), ("3", r"3 \pm 1")],
    "tuple": [("(1,2)", "(2,1)"), ("(1,2,3)", "(1,2)"), ("(1, 2)", "[1, 2]")],
    "matrix": [(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}")],
    "units_text": [("B", "C"), (r"\text{even}", r"\text{odd}"), ("9", r"90 \text{ cm}")],
    "percent": [("25", "2.5"), (r"40\%", "4")],
    "complex": [("1-i", "1+i"), ("i", "-i")],
}


def _cases(table):
  return [pytest.param(g, p, id=f"{cat}-{i}") for cat, pairs in table.items() for i, (g, p) in enumerate(pairs)]


@pytest.mark.parametrize("gold,prediction", _cases(EQUIVALENT))
def test_equivalent_pairs_verify(gold, prediction):
  assert rmath.verify(gold, prediction)


@pytest.mark.parametrize("gold,prediction", _cases(DIFFERENT))
def test_different_pairs_do_not_verify(gold, prediction):
  assert not rmath.verify(gold, prediction)


@pytest.mark.parametrize("completion,answer", [
    (r"so the answer is $\boxed{\frac{1}{2}}$.", r"\frac{1}{2}"),
    (r"\boxed{\frac{a}{\sqrt{b}}} and later \boxed{ \{1, 2\} }", r" \{1, 2\} "),
    (r"\fbox{7}", "7"),
    (r"\boxed 5 is it", "5"),
    (r"<think>\boxed{3}</think> <answer>4</answer>", "4"),
    (r"<answer>The answer is \boxed{12}</answer>", "12"),
    ("Adding them gives 7. The final answer is 7.", "7"),
    ("The answer is $x^2$.", "x^2"),
    ("9 * 2 = 18 dollars.\n#### 18", "18"),
    ("We sum 3 and 4 to get 7 apples in total", "7"),
    (r"\frac{3}{4}", r"\frac{3}{4}"),
    ("even", "even"),
    # prose in other scripts and languages, and values that are fractions or percents
    ("\u6240\u4ee5\u4e00\u5171\u670913\u53ea\u9e1f\u3002", "13"),
    ("\u8ba1\u5212\u7684\u6bd4\u4f8b\u4e3a13/28", "13/28"),
    ("\u7b54\u6848\uff1a\u6bcf\u4efd\u5e94\u8be5\u662f (\\frac{2}{5}) \u5428\u3002", r"\frac{2}{5}"),
    ("La probabilit\u00e9 est donc de **25%**.", "25%"),
    ("the share is 40 percent of the total", "40%"),
    (r"The ratio is [1/2].", "1/2"),
    (r"The total is $\$16,\!386.20$ after a year.", r"\$16,\!386.20"),  # an escaped dollar inside the math
    (r"The sum is $\begin{pmatrix}1 \\ 2\end{pmatrix} + \begin{pmatrix}3 \\ 4\end{pmatrix}$",
     r"\begin{pmatrix}1 \\ 2\end{pmatrix} + \begin{pmatrix}3 \\ 4\end{pmatrix}"),
    ("We add 2 and 3 to get 5.", "5"),
    ("The probability is 1/4.", "1/4"),
    ("**Answer:** 3", "3"),
    ("The correct option is (B).", "(B)"),
    ("The solutions are $x=1$, $x=2$, and $x=3$.", "x=1, x=2, x=3"),  # a run of spans is one list answer
    # a later statement of the answer wins over an earlier box, unless it holds no value or a negated one
    (r"$\boxed{255}$ So he has $10,455. Final Answer: The final answer is $10,455$. I hope it is correct.", "10,455"),
    (r"\boxed{4}. Actually the final answer is 5.", "5"),
    (r"\boxed{4}. I hope the answer is correct.", "4"),
    (r"\boxed{4}. The answer is not 8.", "4"),
    ("The final answer is $12$ and $13$.", "12, 13"),
    # labelled boxes of one run keep their names
    (r"\(y_1 = \boxed{-2(x - 1)^2 + 5} \) and \( y_2 = \boxed{3(x + 2)^2 - 2} \)",
     "y_1 = -2(x - 1)^2 + 5, y_2 = 3(x + 2)^2 - 2"),
    (r"so $x = \boxed{5}$", "5"),
    # prose: decimal commas, a negation that an earlier number took, inline math across a line break
    ("Soucis : 2,74 $ au total.", "2,74"),
    ("The price is 2,740 euros", "2,740"),
    ("not it's not 10 it's 1,000.99m\u00b2", "1,000.99"),
    ("not 4 but 5", "5"),
    ("Answer $ \n 9 \n $", "9"),
    ("Answer $\n\n9 $ 8", "8"),  # a blank line ends inline math
])
def test_extract_answer(completion, answer):
  assert rmath.extract_answer(completion) == answer


@pytest.mark.parametrize("completion", [
    "I think it is 4 or 5.", "\u7b54\u6848\u4e0d\u662f5", "La r\u00e9ponse n'est pas 5", "Die Antwort ist nicht 5",
    "\u6240\u4ee5\u7b54\u6848\u662f4\u62165", "either 4 or 5", "It is 4, not 5.", "minus 5", "minus 3 plus 5",
])
def test_a_negated_or_hedged_number_in_prose_is_no_answer(completion):
  assert not rmath.verify("5", completion)


def test_extract_answer_without_an_answer():
  assert rmath.extract_answer("") is None
  assert rmath.extract_answer("I do not know how to solve this problem, sorry about that friend.") is None
  assert rmath.last_boxed(r"\boxed{unclosed") is None


@pytest.mark.parametrize("gold,answer", [
    ("Janet sells 16 - 3 - 4 = <<9>>9 eggs.\n#### 18", "18"),
    ("the answer is 0.25 + 3", "0.25 + 3"),
    (r"\boxed{35 cm} ++++++ \boxed{4}", "35 cm, 4"),  # boxes with only punctuation between them are one answer
    (r"The sum is $2+3=\boxed{5}$.", "5"),
    ("  \\frac{1}{2} ", "\\frac{1}{2}"),
])
def test_extract_gold(gold, answer):
  assert rmath.extract_gold(gold) == answer


@pytest.mark.parametrize("raw,normal,percent", [
    (r"\left( 1, 2 \right)", "( 1, 2 )", False),
    (r"\dfrac{1}{2}", r"\frac{1}{2}", False),
    (r"5\text{ cm}^2", "5", False),
    (r"30^{\circ}", "30", False),
    (r"12.5\%", "12.5", True),
    ("1,234,567", "1234567", False),
    ("$x = 3$.", "x = 3", False),
    (r"\text{(C)}", "(C)", False),
    (r"1 \text{ or } 2", "1 , 2", False),
    (r"17\text{ apples}", "17", False),  # a label after the value goes
    (r"5\text{ hundred}", "5 hundred", False),  # a word that changes the value stays (and fails to parse)
    (r"5\text{ or more}", "5,more", False),
    (r"\{35 cm, 4\}", r"\{35, 4\}", False),
    (r"\lim_{x \to 0} \frac{\sin x}{x} = 1", "1", False),  # the side the parser cannot evaluate goes
    (r"\lim_{x \to 0} x = 5 = 7", "5 = 7", False),  # the others stay, and must agree
    (r"S = \sum_{i=1}^{n} i^2", r"S = \sum_{i=1}^{n} i^2", False),  # a formula ending in a sum stays whole
    (r"5\mathrm{e}", "5 e", False),  # one letter is a symbol, not a label
])
def test_normalize(raw, normal, percent):
  assert rmath.normalize(raw) == (normal, percent)


def test_accuracy_reward_on_completions_with_prefill_and_stats():
  completions = ["6*7</think> <answer>42</answer>", r"... \boxed{41}", "no idea", r"ok</think>\boxed{(x+1)^2}"]
  golds = ["42", "42", "42", "x^2+2x+1"]
  assert rmath.accuracy_reward(completions, golds, prefill="<think>") == [1.0, 0.0, 0.0, 1.0]
  rewards, stats = rmath.score(completions, golds, prefill=["<think>"] * 4)
  assert rewards == [1.0, 0.0, 0.0, 1.0]
  assert stats["no_answer"] == 2 and stats["timeouts"] == 0 and stats["parse_failures"] == 0  # 2: think never closed


def test_duplicates_are_judged_once_and_then_cached():
  rmath.clear_cache()
  completions = [r"\boxed{\sqrt{18}}"] * 5
  rewards, stats = rmath.score(completions, [r"3\sqrt{2}"] * 5)
  assert rewards == [1.0] * 5 and stats["pooled"] == 5
  rewards, stats = rmath.score(completions, [r"3\sqrt{2}"] * 5)
  assert rewards == [1.0] * 5 and stats["cached"] == 5


def test_gold_that_does_not_parse_counts_and_scores_zero():
  rewards, stats = rmath.score([r"\boxed{5}"], [r"\unknowncommand{5}"])
  assert rewards == [0.0] and stats["gold_failures"] == 1


def test_mismatched_lengths_raise():
  with pytest.raises(ValueError):
    rmath.accuracy_reward(["a", "b"], ["1"])


def test_counters_accumulate():
  before = rmath.counters().get("no_answer", 0)
  rmath.accuracy_reward([""], ["1"])
  assert rmath.counters()["no_answer"] == before + 1


def test_scoring_from_a_worker_thread():
  # Timeouts are enforced by the pool, not by signals, so scoring off the main thread works the same.
  import threading

  out = []
  thread = threading.Thread(target=lambda: out.append(rmath.accuracy_reward([r"\boxed{\sqrt{8}}"], [r"2\sqrt2"])))
  thread.start()
  thread.join(60)
  assert out == [[1.0]]


def test_importing_the_rewards_does_not_import_sympy():
  # The training process only does string work; sympy lives in the worker processes.
  import subprocess
  import sys

  code = "import sys, r1jax.rewards; sys.exit('sympy' in sys.modules)"
  assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("gold,prediction,expected", [
    ("2x", "f(x) = 2x", True),
    ("4", "2 + 2 = 4", True),
    ("4", "2x = 4", False),  # an equation, not a value
    ("(2, 3)", "a = 2, b = 3", True),
    ("[2, 5]", r"x \in [2, 5]", True),
    (r"x \neq -2", r"(-\infty, -2) \cup (-2, \infty)", True),
])
def test_assignments_and_relations(gold, prediction, expected):
  assert rmath.verify(gold, prediction) == expected


def test_a_gold_keeps_its_one_letter_constants():
  assert rmath.normalize(r"1 - \frac{1}{\mathrm{e}}", gold=True) == (r"1 - \frac{1}{ e }", False)
  assert rmath.verify(r"$1 - \frac{1}{\mathrm{e}}$", r"$1 - e^{-1}$")


@pytest.mark.parametrize("gold,prediction,expected", [
    # several solutions: assignments whose names repeat in a cycle are one solution per cycle
    ("p=5,q=2;p=7,q=2", "(5,2),(7,2)", True),
    (r"p = 5, q = 2 \quad \text{and} \quad p = 7, q = 2", "p=5,q=2;p=7,q=2", True),
    ("(5,2),(7,2)", "p=5,q=2;p=7,q=3", False),
    ("p=5,q=2;p=7,q=2", "(5,2),(2,7)", False),
    # named quantities given by a number: products, ratios and absolute values of points or variables
    ("|AB|=1", "1", True), ("A:B=1", "1", True), (r"\frac{NO}{BO}=\frac{1}{\sqrt{6}}", r"\frac{\sqrt6}{6}", True),
    ("|AB|=1", "2", False), ("5", "x/2 = 5", False), ("5", "2AB = 5", False),
    # values named in a gold list against labelled boxes; \quad glued to the next name
    (r"x_{1}=\frac{1}{2}+\frac{31\sqrt{5}}{216},\quadx_{2}=\frac{1}{2}-\frac{31\sqrt{5}}{216}",
     r"\boxed{\dfrac{108 + 31\sqrt{5}}{216}} \quad \text{and} \quad \boxed{\dfrac{108 - 31\sqrt{5}}{216}}", True),
    ("y_1 = 2x + 1, y_2 = x^2", r"$y_1 = \boxed{2x+1}$ and $y_2 = \boxed{x^2}$", True),
    ("y_1 = 2x + 1, y_2 = x^2", r"$y_1 = \boxed{x^2}$ and $y_2 = \boxed{2x + 1}$", False),
    # inequalities about a name or an absolute value, and a variable in a union
    ("0<f(x)<1", "(0,1)", True), ("0<f(x)<1", "[0,1]", False),
    (r"1\leq|z|\leq \frac{3}{2}", r"z \in \left[-\frac{3}{2}, -1\right] \cup \left[1, \frac{3}{2}\right]", True),
    (r"1\leq|z|\leq \frac{3}{2}", r"[1, \frac{3}{2}]", False), (r"|x| < 2", "(-2, 2)", True),
    # a tuple written without its parentheses, in its order
    ("(1,3)", "{1,3}", True), ("(3,1)", "{1,3}", False),
    # degrees inside a trigonometric function are radians there
    (r"\sin(90^{\circ}-x)", r"\cos(x)", True), (r"\sin 30^\circ", r"\frac12", True),
    (r"\cos x", r"\sin(90 - x)", False),
    # systems of equations
    (r"\begin{cases} x + y = 3 \\ x - y = 1 \end{cases}", r"\begin{cases} x - y = 1 \\ y + x = 3 \end{cases}", True),
    (r"\begin{cases} x + y = 3 \\ x - y = 1 \end{cases}", r"\begin{cases} x + y = 3 \end{cases}", False),
    # decimal commas in prose
    ("2.74", "Soucis : 2,74 $ au total.", True), ("2.74", "Le prix est de 2,740 euros.", False),
])
def test_multi_part_named_relational_and_prose_answers(gold, prediction, expected):
  assert rmath.verify(gold, prediction) == expected


# Each row failed on the grader before these rules (as a refused right answer or a rewarded wrong one).
@pytest.mark.parametrize("gold,prediction,expected", [
    # Percent: the gold's sign names the unit asked for (25 and 0.25 answer 25%); a prediction's sign is part of
    # its value unless the gold is a percent too (5% is 0.05, 4 4/9% is 2/45).
    ("40/9", "4 4/9%", False), ("40/9", "4 4/9 %", False), ("5", r"<answer>5\%</answer>", False),
    ("40/900", "4 4/9 percent", True), (r"25\%", "25", True), (r"25\%", "0.25", True), (r"25\%", r"25\%", True),
    ("0.05", "5%", True),
    # Mixed numbers, whole answers only.
    ("-40/9", "-4 4/9", True), ("71/6", "+11 5/6", True), ("4", "4 0/9", True), ("9004/9", "1 000 4/9", True),
    (r"\frac52", "2 1/2", True), ("1", "2 1/2", False), ("5/2", "5 1/2", False),
    # Units and words attached to a number; words that change the value still refuse it.
    ("12", "12cm", True), ("12", "12m", False), ("2", "Answer: 2 kPa", True), ("2000", "Answer: 2 kPa", False),
    ("5", "5 factorial", False), ("5", "5 thousand", False), ("5", "minus 5", False),
    ("5", "definitely not 5", False),
    # Status labels and function calls hold no final answer (the text is read, never run).
    ("10", "Work in progress: 10", False), ("10", "Draft answer: 10", False), ("1", "exec('x=1')", False),
    ("5", "print(5)", False), ("8", "sqrt(8)", False), ("2*sqrt(2)", "sqrt(8)", True),
    # Dots as thousands separators where unambiguous (two or more groups), markup slips.
    ("1000000", "1.000.000", True), ("1000", "1.000", False), ("39", r"\box{39}", True), ("39", r"\box{38}", False),
    ("55", "####: 55", True), ("131", "64 + 67 = **131**", True), ("5", "2 + 2 = **5**", False),
    ("120", "The answer is _120°_.", True), ("162x^4", "Answer: 162x⁴", True), ("162x^4", "Answer: 162x⁵", False),
    ("8", "2**3", True), ("6", "2**3", False),
])
def test_percent_mixed_numbers_units_labels_calls_and_markup(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Each row failed on the grader before these rules (as a refused right answer or a rewarded wrong one).
@pytest.mark.parametrize("gold,prediction,expected", [
    # Spaced digits in prose are no value: garbage holding the gold's digits gets nothing.
    ("1 + 1", "abcdefghijklmnopqrstuvwxyz 1 2 abcdeghijk ab cd ef bq arub oin tsn a8 asin", False),
    ("3", "<think>.</think>I wrote 4 3 somewhere", False), ("12", "<think>.</think>my digits were 1 2 today", False),
    ("3", "<think>.</think>So the count is 3.", True),
    # Different units (or labels) on the two sides: a wrong answer; the same unit spelled another way is right.
    (r"3.5 \text{gal}", r"3.5 \text{L}", False), (r"2 * 3.5 \text{gal}", r"7 \text{L}", False),
    (r"1 \text{gal} + 2 \text{gal}", r"1 \text{L} + 2 \text{gal}", False),
    (r"17\text{ apples}", r"17\text{ oranges}", False), (r"5\text{ cm}", r"5\text{ m}", False),
    (r"3.5\text{ gallons}", r"3.5 \text{gal}", True), (r"5\text{ cm}", r"5\text{ centimeters}", True),
    (r"5\text{ cm}", "5", True), ("5", r"5\text{ cm}", True),
    # Inverse secant, cosecant and cotangent.
    (r"\cot^{-1}\left(x\right)", r"\arccot x", True), (r"\asec\left(x\right)", r"\arcsec \left(x\right)", True),
    ("1/x", r"\sin\left(\arccsc x\right)", True), (r"\arcsec x", r"\arccsc x", False),
    (r"\sec^{-1} x", r"\frac{1}{\sec x}", False),
    # Thousands separators on the sides of an equation.
    ("36x^2+64y^2=2,304", "36x^2+64y^2=2304", True), ("100,000=72,300(1.008)^x", "72300(1.008)^x=100000", True),
    ("y=2,500", "y=2.5", False), ("y=2,500", "y=2500", True),
])
def test_spaced_digits_units_inverse_trig_and_equation_thousands(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Digits grouped in threes by spaces after the decimal point too, as the SI writes them. The right answers failed on
# the grader before (refused); the wrong ones show the groups are read as digits of one number, not dropped.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("12345.6789", "12 345.678 9", True), ("12345.6789", "12 345,678 9", True), ("1,2345", "1,234 5", True),
    ("3.14159", "3.141 59", True), (r"\pi", "3.141 592 65", True), ("0.1234567", "0.123 456 7", True),
    ("12345.6789", "12 345.678 8", False), ("3.14159", "3.141 5", False), ("1.2345", "1,234 6", False),
    ("0.1234567", "0.123 456", False), ("12", "1 2", False), ("1.5", "1.5 2", False),
])
def test_digits_grouped_by_spaces_after_the_decimal_point(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# max and min of a parenthesised list, in plain and SymPy spellings. The right answers failed on the grader before
# (refused: "max" was read as a product of letters); the wrong ones show the value is compared, not the name.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("max(n, m)", "max(m,n)", True), ("Max(n, m)", "max(m, n)", True), ("m", "max(m)", True),
    ("Min(n, m, alpha)", "min(alpha, m, n)", True), ("5", "max(3, 5)", True), ("-2", "min(1, -2, 0)", True),
    ("3", "max(3, 5)", False), ("max(m, n)", "min(m, n)", False), ("m", "max(m, n)", False), ("2", "max(2, x)", False),
])
def test_max_and_min_of_a_list(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Chains whose middle is an expression, split into their halves and matched one to one, in place. The right answers
# failed on the grader before (refused: only a chain around a bare variable was compared); the wrong ones show that a
# different bound, swapped strictness, a reversed chain that reads the other way and halves that only match crosswise
# stay refused.
@pytest.mark.parametrize("gold,prediction,expected", [
    (r"33\le 3(x+4)\le 42", r"11\le (x+4)\le 14", True), (r"18\le 2(6+x)\le 22", r"18\le 12+2x\le 22", True),
    (r"360\pi < 12\pi x< 480\pi", "30<x<40", True), (r"1150\leq 12g+550\leq 1450", r"50\leq g\leq 75", True),
    (r"\frac{a}{3}<2x+4\le \frac{4}{3}a+5", r"\frac{4a}{3}+5\ge 2(x+2)> \frac{1}{3}a", True),
    ("2<2x+2<6", "6>2x+2>2", True), ("1<2x<6", r"3>x>\frac{1}{2}", True),
    (r"33\le 3(x+4)\le 42", r"11\le x+4\le 15", False), (r"33\le 3(x+4)\le 42", "11< x+4< 14", False),
    (r"33\le 3(x+4)< 42", r"11< x+4\le 14", False), ("1<2x<6", r"\frac{1}{2}>x>3", False),
    ("1<2x<6", r"-3< -x< -\frac{1}{2}", False), ("2<2x+2<6", "2<2x+2>6", False),
    (r"1\le \frac{x}{2}\le 5", r"1\ge \frac{x}{2}\ge 5", False), (r"0<x+1<\frac{1}{2}", "0.5>x-1>0", False),
    (r"125\pi \le \frac{25}{3}\pi x\le 200\pi", r"15\le x\le 25", False),
])
def test_chains_whose_middle_is_an_expression(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# The \nthroot macro some answer checkers define, and the asterisk operator (U+2217) that LaTeX's \ast prints. The
# right answers failed on the grader before (refused: \nthroot was an unknown command, the character outside the
# grammar); the wrong ones show that a different value stays refused, and that \nthroot{n}{x} is read only where its
# order is plain (a whole-number index, a radicand that is not one): \nthroot{3}{8} and \nthroot{x}{3} could mean
# either root, since other definitions put the radicand first.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("2", r"\nthroot[3]{8}", True), (r"\nthroot{5}{a^3}", r"a^{\frac{3}{5}}", True),
    (r"\sqrt[3]{x}", r"\nthroot{3}{x}", True), ("6", r"3\nthroot[3]{8}", True),
    (r"\sqrt[4]{2}", r"\nthroot[4]{2}", True),
    ("3x", "3\u2217x", True), ("2xy", "2\u2217x\u2217y", True),
    ("3", r"\nthroot[3]{8}", False), ("2", r"\nthroot{3}{8}", False), (r"\sqrt[3]{2}", r"\nthroot{3}{2}", False),
    (r"\sqrt[3]{x}", r"\nthroot{x}{3}", False), (r"\nthroot{5}{a^3}", r"a^{\frac{5}{3}}", False),
    ("3x", "3\u2217y", False), ("x+3", "3\u2217x", False),
])
def test_nthroot_macro_and_the_asterisk_operator(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# A sign said in a word before a lone number, as tutors' and voice transcripts' answers write it: "minus 6" is -6.
# The right answers failed on the grader before (refused: "minus" was a word that makes the parse fail); the wrong
# ones show that the value must still be the gold's, and that only a whole answer of the word and one number in
# digits takes the sign ("10 minus 6" is no answer of 4, "minus six" stays words).
@pytest.mark.parametrize("gold,prediction,expected", [
    ("-6", "minus 6", True), ("-1", "minus 1", True), ("-1/7", "negative 1/7", True), ("-2.5", "Minus 2.5", True),
    ("-6", "<answer>minus 6</answer>", True),
    ("6", "minus 6", False), ("-1/2", "minus 6", False), ("6", "negative 6", False), ("4", "10 minus 6", False),
    ("-2", "minus 5 plus 3", False), ("-6", "minus six", False), ("-6", "minus -6", False),
    ("5", "<answer>minus 5</answer>", False),
])
def test_a_sign_said_in_a_word_before_a_lone_number(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# The radical sign before digits covers the whole number: √16 is \sqrt{16} and 20√57 is 20\sqrt{57}, as printed
# radicals read. The grader read the sign as a bare \sqrt, which takes one digit in LaTeX, so √16 was \sqrt{1}6: the
# right answers below were refused before, and √12 for 2, √16 for 6 and √57 for 7\sqrt{5} were rewarded. Only the
# digit run is the radicand (√3/2 is \sqrt{3}/2, √2x is \sqrt{2}x).
@pytest.mark.parametrize("gold,prediction,expected", [
    ("4", "√16", True), (r"\sqrt{57}", "√57", True), (r"20\sqrt{57}", "20√57", True),
    (r"-\frac{185\sqrt{23}}{6}", "−185√23 / 6", True), (r"\sqrt{12}", "√12", True), (r"\sqrt{2.5}", "√2.5", True),
    (r"2\sqrt{3}", "2√3", True), (r"\frac{\sqrt{3}}{2}", "√3/2", True),
    ("2", "√12", False), ("6", "√16", False), (r"7\sqrt{5}", "√57", False), ("4", "√17", False),
    (r"\sqrt{3/2}", "√3/2", False), (r"\sqrt{2x}", "√2x", False),
])
def test_the_radical_sign_covers_the_whole_number(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Before a lone letter the radical sign covers that letter: √x is \sqrt{x}. The grader made the sign a bare \sqrt glued
# to the letter, the unknown command \sqrtx, so the right answers below were refused. A letter followed by another
# letter or a digit is not read (√xy may be \sqrt{x}y or \sqrt{xy}), and a wrong answer stays wrong.
@pytest.mark.parametrize("gold,prediction,expected", [
    (r"\sqrt{x}", "√x", True), ("x^{1/2}", "√x", True), ("√x", "sqrt(x)", True), ("2√x + C", "2*√x + C", True),
    ("2√x + C", "√x*2 + C", True), ("(2/3)x√x + C", "x√x*2/3 + C", True), (r"\frac{\sqrt{a}}{2}", "√a/2", True),
    (r"\sqrt{x}", "√ x", True),
    ("2√x + C", "2√x", False), (r"\sqrt{x}", "√y", False), (r"\sqrt{xy}", "√xy", False), (r"\sqrt{x}y", "√xy", False),
    (r"\sqrt{2x}", "√x2", False), (r"\sqrt{x/2}", "√x/2", False),
])
def test_the_radical_sign_covers_a_lone_letter(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# nCr and nPr between two whole numbers are combinations and permutations, as school books write them: 5C3 is
# \binom{5}{3} = 10 and 5P3 is 60. The grader read them as the products 5*C*3 and 5*P*3, so 3C5 was rewarded for 5C3
# and 3P5 for 5P3, and 10 was refused for 5C3. A lower-case letter, or a letter not between two whole numbers, stays
# a product or a name.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("5C3", "3C5", False), ("5P3", "3P5", False), ("10C2", "2C10", False), ("5C3", "4C3", False),
    ("10", "5C3", True), ("5C3", "10", True), ("60", "5P3", True), (r"\binom{5}{3}", "5C3", True),
    (r"\binom{10}{2}", "10C2", True),
    ("5C3", "5C3", True), ("15c", "5c3", True), ("x5C3", "x5C3", True),
])
def test_combinations_and_permutations_between_two_whole_numbers(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# The plus-minus sign as a character, ± (and ∓), is \pm (\mp): 5 ± x is the list 5 + x, 5 - x. The grader kept the
# character, which does not parse, so the right answers below were refused; a ± that gives other values, or two
# values for one, stays wrong.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("5 + x, 5 - x", "5 ± x", True), (r"1 + \sqrt{2}, 1 - \sqrt{2}", "1 ± √2", True), ("2, -2", "±2", True),
    ("x = 3, x = -3", "x = ±3", True), ("5 + x, 5 - x", "5 ∓ x", True), (r"1 \pm \sqrt{2}", "1 ± √2", True),
    ("5 + x, 5 - x", "5 ± 2x", False), ("2", "±2", False), ("x = 3", "x = ±3", False),
    (r"1 \pm \sqrt{2}", "1 ± √3", False),
])
def test_the_plus_minus_character_is_pm(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# A vulgar fraction character is its fraction: ½ is \frac{1}{2}. The grader kept the character, which does not
# parse, so the right answers below were refused (a gold written ½ too). One glued to a digit or a letter before
# it, or to a digit after it, stays unread (1½ may be the mixed number or the product), and a wrong value stays
# wrong.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("1/2", "½", True), (r"\frac{1}{2}", "½", True), ("-1/2", "-½", True), ("3/4", "¾", True),
    ("2/3", "⅔", True), (r"\frac{x}{2}", "½x", True), ("½", r"\frac{1}{2}", True), ("0.125", "⅛", True),
    ("1/3", "½", False), ("1/4", "¾", False), ("3/2", "1½", False), ("1/2", "1½", False),
    ("2.5", "2½", False), ("1/2", "½2", False), ("3/4", "x¾", False),
])
def test_a_vulgar_fraction_character_is_its_fraction(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# The plus-minus sign typed in ASCII is \pm: +/- anywhere, and +- where no value stands before it (+-5, x = +-3).
# The grader read +-5 as the plus of -5, so it refused +-5 for the list 5, -5 and rewarded it for -5 alone; +/- did not
# parse. Between two values +- stays the plus of a negative (x+-y is x - y), and a wrong value stays wrong.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("5, -5", "+-5", True), (r"\pm 5", "+-5", True), ("x = 3, x = -3", "x = +-3", True),
    ("5 + x, 5 - x", "5 +/- x", True), (r"1 \pm \sqrt{2}", r"1 +/- \sqrt{2}", True), ("-5", "+-5", False),
    ("2", "+-2", False), ("x - y", "x+-y", True), ("5 + x, 5 - x", "5+-x", False), ("5, -5", "+-6", False),
])
def test_the_plus_minus_sign_typed_in_ascii_is_pm(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# The word sqrt before a number covers the whole number, as the radical sign does: 8sqrt3 is 8\sqrt{3}. The grader
# read 8sqrt3 as prose (sqrt is a word of four letters) and took its first number, so it refused the right answers
# below and rewarded 8 for it; a lone sqrt16 already read. A wrong value stays wrong.
@pytest.mark.parametrize("gold,prediction,expected", [
    (r"8\sqrt{3}", "8sqrt3", True), (r"2\sqrt{3}", "2sqrt3", True), ("13.856", "8sqrt3", True),
    (r"2\sqrt{3}", "2 sqrt3", True), (r"\sqrt{3}", "sqrt 3", True), (r"2\sqrt{3}", "The answer is 2sqrt3.", True),
    ("8", "8sqrt3", False),
    ("4", "sqrt16", True), (r"\sqrt{5}", "8sqrt3", False), ("3", "sqrt3", False), ("4", "sqrt17", False),
    ("12", "sqrt12", False),
])
def test_the_word_sqrt_before_a_number_covers_it(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# x or X between a number and a power of ten is a times sign, as scientific notation is typed: 3x10^8 is
# 3 \times 10^8. The grader read it as a product with the letter x, so it refused the right answers below. Nothing
# glued to the number's front or to the exponent (x10^8, 3x10^8y, 3x10^n) changes, and a wrong value stays wrong.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("300000000", "3x10^8", True), ("3e8", "3X10^8", True), ("300000000", "3 x 10^8", True),
    ("0.0025", "2.5x10^{-3}", True), ("0.0025", "2.5x10^-3", True), (r"3 \times 10^8", "3x10^8", True),
    ("300000000", "The answer is 3x10^8.", True),
    ("300000000", "4x10^8", False), ("300000000", "3x10^9", False), ("10^9", "x10^8", False),
    ("300000000y", "3x10^8y", False), (r"3x \cdot 10^8", "3x10^8", False), ("3000000000", "3x10^8.5", False),
])
def test_x_between_a_number_and_a_power_of_ten_is_a_times_sign(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# pct glued to its number is the percent word: 25pct is 25 pct, so 0.25 and 25% (the policy for a prediction's
# percent). The grader did not read the glued word, so it refused both; a wrong value stays wrong, and 25pct no more
# answers a plain 25 than 25 pct does.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("0.25", "25pct", True), ("25%", "25pct", True), ("0.75", "75PCT", True),
    ("0.25", "26pct", False), ("25", "25pct", False), ("25", "25 pct", False), ("0.25", "25pcts", False),
])
def test_pct_glued_to_its_number_is_a_percent(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Plain unit words (2 cm, 2cm, 5 inches) are compared like \text{} units, and a gold that glues its unit to the
# number asks for that unit. Each row failed on the grader before: "2 mm" was rewarded for "2 cm" (both units were
# dropped), and "2 cm" was refused for the gold "2cm" (read as 2 times c times m).
@pytest.mark.parametrize("gold,prediction,expected", [
    ("2 cm", "2 mm", False), ("2cm", "2 mm", False), ("2 cm", r"2 \text{ mm}", False), ("5 cm^2", "5 cm", False),
    ("2cm", "2 cm", True), ("2cm", r"2 \text{ cm}", True), ("2cm", "2cm", True), ("10cm", "10", False),
])
def test_plain_and_glued_units_on_both_sides(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Plain function calls (sqrt(x), asin(x)) in a bare answer were read as prose, so the answer fell back to its last
# number: 1/sqrt(x) answered 1. Each right row failed on the grader before; the wrong rows guard the new path.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("sqrt(1/x)", "1/sqrt(x)", True), ("(5*sqrt(2)-7)^7", "(19601-13860*sqrt(2))^(7/4)", True),
    ("5", "sqrt(25)", True), (r"\frac{\pi}{6}", "asin(1/2)", True), (r"\sqrt{6}", "sqrt(2)*sqrt(3)", True),
    ("1", "1/sqrt(x)", False), ("7/4", "(19601-13860*sqrt(2))^(7/4)", False), ("5", "sqrt(26)", False),
    ("5", "sqrt(25) = 6", False), ("7", "sqrt(49) or 8", False), ("x", "sqrt(x^2)", False),
])
def test_plain_function_calls_are_part_of_the_answer(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected
  assert rmath.extract_answer(prediction) == prediction


# A completion cut off inside inline math has not answered: the last number of its prose is a step of the work. Both
# wrong rows were rewarded before (truncated model completions whose last step held the gold). The right rows keep
# what the rule must not touch: a closed span, dollar amounts before or after their number.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("6", "Try $m = 6$: can the sum be 6?\nYes, once each: $c_1 = \\dots = c_6 = 1$.\nSum = $1+1+1+1+1+1 = 6$.\nEach $",
     False),
    ("1", "So for $n=1$, $k=0$. The max number of bad indices is 1.\nLet $b_1=1, r_1=1 \\implies w_", False),
    ("6", "Try $m = 6$: can the sum be 6?\nYes, once each.\nSum = $1+1+1+1+1+1 = 6$.", True),
    ("70", "The discount is 100 * 0,30 = 30 $. The final cost is 100 - 30 = 70", True),
    ("70", "It costs $30 less, so it costs $70", True),
])
def test_a_completion_cut_off_inside_inline_math_is_no_answer(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Each right row failed on the grader before: a completion that is the gold's own text (answers whose words
# extraction cannot read as math), an angle's name before its value, "percentage" as a percent word.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("odd $n$", "odd $n$", True), ("odd $n$", "  odd  $n$ ", True), ("odd $n$", "odd $m$", False),
    ("$f(x) = x$ for some $a>0$", "$f(x) = x$ for some $a>0$", True),
    ("$f(x) = x$ for some $a>0$", "$f(x) = x$", False),
    ("74^\\circ", "\\boxed{\\;\\angle APC = 74^\\circ\\;}", True), ("74", "\\boxed{\\angle A = 74}", True),
    ("74^\\circ", "\\boxed{\\angle APC = 75^\\circ}", False), ("74^\\circ", "\\boxed{\\angle APC}", False),
    ("0.335", "33.5 percentage", True), ("0.335", "33.6 percentage", False),
])
def test_the_gold_text_itself_angle_names_and_percentage(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Each row failed on the grader before. The wrong row was rewarded: a gold written as a whole `[5]` is a one-element
# list, which the number 5 does not answer (an answer [45] for a gold 45 is still that answer in list brackets). The
# right rows were refused: Python's ** twice in one answer (read as markdown bold around "2 + cos(x)"), == as
# equality, factorial(n), log(x, b) with its base (no logarithm to a base 0 or 1), the Chinese enumeration comma and
# "or", and \mathrm{m} read as metres where no value comes before it.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("[5]", "5", False), ("[5]", "[5]", True), ("45", "[45]", True), ("[x + 1]", "x + 1", False),
    ("1 + \\tan x", "sin(x)**2 + cos(x)**2 + tan(x)", True), ("2", "**2**", True),
    ("x^2 + x + 1 = 0", "x**2 + x + 1 == 0", True), ("x^2 + x + 1 = 0", "x**2 + x + 2 == 0", False),
    ("\\frac{1}{n + 1}", "factorial(n)/factorial(n + 1)", True), ("120", "factorial(5)", True),
    ("\\log_{10} x", "log(x, 10)", True), ("3", "log(8, 2)", True), ("\\log_{10} x", "log(10, x)", False),
    ("0", "log(1, 0)", False), ("0", "\\log_1 1", False),
    ("x=3, x=2", "x=2 \u6216 x=3", True), ("5", "4 \u6216 5", False),
    ("1, [-1,1]", "1 \u3001[-1,1]", True), ("1, 2", "1\u30013", False),
    ("$\\mathrm{p}>\\mathrm{m}>\\mathrm{n}$", "p>m>n", True), ("$\\mathrm{p}>\\mathrm{m}>\\mathrm{n}$", "p>n>m", False),
    ("5", "5\\,\\mathrm{m}", True),
])
def test_one_element_lists_python_notation_and_chinese_separators(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Each wrong row was rewarded before, for a general reason: a decimal tolerance relative to the whole value hid a
# small extra term behind a large one (e^{10x} + ...) and let two different exact decimals agree to 1e-6; the probe
# points lie within 3 of zero, where |x + 10| - 10 and |x + 11| - 11 are both x; an equation between two letters
# (y = x) was read as the value of y. The right rows were refused: plain notation's sech, csch, coth, floor, ceil,
# round, binom / nCr / nPr, re / im / arg of a parenthesised argument, cbrt and log_10(x) with its whole base.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("e^(10x)+sin(10x)", "e^(10x)+sin(10x)+0.0000001", False), ("cos(10x) < 0", "cos(10x)+0.0000001 < 0", False),
    ("(e^(10x^2),5)", "(e^(10x^2)+0.0000001,5)", False), ("x=1.52399022", "x=(1+.2345)^2", False),
    ("x + \\sqrt{2} i", "x + 1.414i", True), ("e^{x} + 0.5", "e^x + 1/2", True),
    ("abs(x+10)-10", "abs(x+11)-11", False), ("abs(x+1000)-1000", "abs(x+1001)-1001", False),
    ("\\lfloor x + 500 \\rfloor", "\\lfloor x \\rfloor + 500", True), ("|x - 2| + |x + 2|", "|x + 2| + |2 - x|", True),
    ("x", "y=x", False), ("y=x", "x", False), ("5", "x = 5", True), ("x^2+2x+1", "y = x^2+2x+1", True),
    ("1/cosh x", "sech x", True), ("1/tanh x", "coth x", True), ("1/sinh x", "csch x", True),
    ("-17", "ceil(-17.8)", True), ("-18", "floor(-17.3)", True), ("-18", "round(-17.8)", True),
    ("17", "round(17.3)", True), ("18", "round(17.3)", False),
    ("56", "binom(8,3)", True), ("56", "nCr(8,3)", True), ("336", "nPr(8,3)", True), ("335", "nPr(8,3)", False),
    ("3", "re(3-5i)", True), ("-5", "im(3-5i)", True), ("arg(x)", "arg(5x)", True),
    ("5", "log_10(100000)", True), ("x^(1/3)", "cbrt(x)", True), ("-2", "cbrt(-8)", True),
    ("10", "\\binom{5}{2}", True),
])
def test_small_terms_kinks_far_out_letter_equations_and_plain_function_names(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Plain calculator notation. Each right row was refused before: a function name of 4+ letters (sech, floor, asin)
# with a power before its argument (sech**6(x), asin^2(x)) read as prose, SymPy's Abs(x) read as A*b*s*x, a Greek
# letter's plain name (theta, zeta) refused as a word, asech / acsch / acoth unknown. Each wrong row was rewarded
# before: prose read for its last number took an exponent or a term of a formula as the value (6 of sech(x)**6,
# 1 of floor(x) + 1, 2 of Bsec**2(x), 3 of 2x + 3).
@pytest.mark.parametrize("gold,prediction,expected", [
    ("sech(x)**6", "sech**6(x)", True), ("asin(x)^2", "asin^2(x)", True), ("\\cosh^{3} x", "cosh**3(x)", True),
    ("asech(x)**5", "asech**5(x)", True), ("asinh(1/2)", "acsch(2)", True), ("floor(x) + 1", "floor(x+1)", True),
    ("Abs(x)+y", "|x|+y", True), ("a*Abs(x+b*Abs(y))", "a*|x+b*|y||", True), ("Abs(x)", "|y|", False),
    ("E+S+zeta+beta", "beta+zeta+S+E", True), ("2\\theta", "theta+theta", True), ("sin(theta)", "sin(alpha)", False),
    ("6", "sech(x)**6", False), ("1", "floor(x) + 1", False), ("7", "cbrt(x)+7", False), ("75", "asin**75(x)", False),
    ("2", "Bsec**2(x)", False), ("3", "We need 2x+3", False), ("6", "about 10^6", False),
    ("8", "It is 5 + 3 = 8", True), ("3", "the difference is **3** pages", True), ("-5", "so x = -5", True),
])
def test_plain_calculator_notation_and_operands_of_formulas(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


def test_every_plain_function_name_of_the_parser_is_read_as_part_of_a_formula():
  from r1jax.rewards import _parser

  names = {n for n in list(_parser._FUNCS) + list(_parser._PAREN_FUNCS) if len(n) >= 4 and n.islower()}
  assert names <= set(rmath.PLAIN_FUNCTION_NAMES)
  for name in names:
    assert rmath.extract_answer(f"{name}(x) + 2") == f"{name}(x) + 2"


# A statement that disowns or hedges the answer it introduces answers nothing, and no earlier value stands in for it:
# each wrong row was rewarded before (the value after the label, or the box before it, was read as the answer).
@pytest.mark.parametrize("gold,prediction,expected", [
    ("42", "Wrong answer: 42", False), ("42", "This isn't the final answer: 42", False),
    ("42", "Ignore the following final answer: 42", False), ("42", "Possibly the answer: 42", False),
    ("42", "A non-final answer: 42", False), ("42", "Candidate answer: \\boxed{42}", False),
    ("42", "\\boxed{42}. Rejected answer: 42", False), ("42", "<answer>Old answer: 42</answer>", False),
    ("42", "\u9519\u8bef\u7b54\u6848\uff1a42", False),
    ("42", "\u8fd9\u4e0d\u662f\u6700\u7ec8\u7b54\u6848\uff1a42", False),
    ("42", "Wrong answer: 7; corrected final answer: 42", True),
    ("42", "<|im_start|>Answer: \\boxed{42}<|im_end|>", True),
    ("42", "Therefore, the final answer is 42.", True), ("42", "\u6240\u4ee5\u6700\u7ec8\u7b54\u6848\u662f42", True),
])
def test_a_disowned_or_hedged_answer_statement_answers_nothing(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Malformed last surfaces: an answer statement or an <answer> tag left open, a tag inside an unclosed box, a box
# juxtaposed to a value, a value that a connective follows with more math, a line break (two backslashes) after a
# value, a thin space between two numbers. Each wrong row was rewarded before; each right row still scores.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("42", "\\boxed{42}; final answer:", False), ("42", "<answer>42</answer> then <answer>", False),
    ("42", "<answer>Final answer: 42", False), ("42", "\\boxed{broken <answer>42</answer>", False),
    ("42", "<answer>x=0\\boxed{42}</answer>", False), ("42", "Final answer: $7$ because $42$", False),
    ("\\frac{3}{4}", "The answer is 3/4 so 4.", False), ("42", "<answer>7 then $42$</answer>", False),
    ("42", "Final answer: x=0\\,42", False), ("42", "Final answer: 7 \\\\boxed{42}", False),
    ("42", "Final answer: 0\\\\pi+42", False),
    ("42", "\\boxed{7} \\\\\\boxed{42}", True), ("-3", "The result is \\\\boxed{-3}", True),
    ("1000", "1\\,000", True), ("5", "The answer is 5, as expected.", True),
])
def test_malformed_last_surfaces_and_trailing_math_answer_nothing(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# Prose is no label and a quoted number no statement; an assignment's value keeps its kind (set or number); lists,
# thousands inside a fraction, gcd and lcm. Wrong rows were rewarded before, right rows refused.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("42", "\\boxed{42\\text{ arbitrary prose}}", False), ("17", "\\boxed{17\\text{ apples}}", True),
    ("42", "The derivation contains 42.", False), ("3", "The text mentions 3", False),
    ("3", "There are 3 apples left.", True),
    ("42", "\\boxed{x=\\{42\\}}", False), ("\\{42\\}", "\\boxed{x=42}", False), ("42", "x = 42", True),
    ("[1, 2, 3]", "\\boxed{1, 2, 3}", True), ("[1, 2, 3]", "\\boxed{3, 2, 1}", False),
    ("\\frac{945}{16384}", "\\frac{945}{16,384}", True),
    ("42", "\\boxed{\\operatorname{gcd}(42,42)}", True), ("42", "\\boxed{\\operatorname{lcm}(6,7)}", True),
    ("6", "\\gcd(12, 18)", True), ("7", "\\gcd(12, 18)", False), ("2", "gcd(x, 2)", False),
])
def test_prose_labels_quoted_numbers_assignment_kinds_lists_and_gcd(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout13's false positives: a number that prose says a text says is quoted, one that its sentence goes on to
# doubt is not stated, and several <answer> tags that disagree leave no final answer. Wrong rows were rewarded before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("42", "The prompt says 42, but I am unsure.", False), ("42", "The prompt says 42.", False),
    ("42", "It is 42, but I am not sure.", False), ("42", "It is 42.", True),
    ("3", "<answer>2</answer> then <answer>3</answer>", False), ("2", "<answer>2</answer> then <answer>3</answer>", False),
    ("0.5", "<answer>1/2</answer> and finally <answer>\\frac{2}{4}</answer>", True),
    ("3", "<answer>3</answer> so <answer>3</answer>", True),
])
def test_quoted_and_doubted_values_and_conflicting_answer_tags(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout14's misses. Each group holds rows that scored the other way before its rule.
@pytest.mark.parametrize("gold,prediction,expected", [
    # A run of superscript characters is one exponent (x\u00b2\u00b3 was x^2^3 = x^8, a wrong answer rewarded).
    ("9 * 10^(-8)", "9 \u00d7 10\u207b\u2078", True), ("9 * 10^(-8)", "9 \u00d7 10\u207b\u2077", False),
    ("x^{23}", "x\u00b2\u00b3", True), ("x^8", "x\u00b2\u00b3", False), ("x^2", "x\u00b2", True),
    # Function names in capitals, as calculators and spreadsheets write them.
    ("4*SQRT(3)", "4\\sqrt{3}", True), ("5*SQRT(3)", "sqrt(3)*5", True), ("2*SQRT(14)", "2\\sqrt{7}", False),
    ("\\ln 2", "LN(2)", True), ("\\ln 3", "LN(2)", False),
    # A derivative named before an equals sign is a label of its own.
    ("f'(x) = 5x^0", "5", True), ("y'' = 3", "3", True), ("f'(x) = 2x", "f'(x) = x + x", True),
    ("f'(x) = 2x", "2", False), ("f(x) = 5", "f'(x) = 5", False),
    # A chat template's end-of-turn token ends the completion (a box after it was read as the answer).
    ("72", "Adding both: 48 + 24 = 72.\n\n#### 72<|im_end|>", True),
    ("42", "The answer is 42.<|eot_id|><|start_header_id|>user<|end_header_id|>What is 6*7?", True),
    ("41", "\\boxed{41}<|im_end|>\\boxed{42}", True), ("42", "\\boxed{41}<|im_end|>\\boxed{42}", False),
])
def test_superscript_runs_capital_function_names_derivative_labels_and_end_of_turn(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout15's misses. Each group holds rows that scored the other way before its rule.
@pytest.mark.parametrize("gold,prediction,expected", [
    # "The answer is:" (MetaMathQA's marker) is "the answer is"; markdown bold around its value goes.
    ("18", "Step 1: ... Step 2: ...\nThe answer is: 18", True), ("1200", "The answer is: 1,200", True),
    ("19", "The answer is: 18", False), ("23", "All things considered, the answer is **23**.", True),
    ("540", "Total = 540\n\n#### N\n\nThe answer is: 540", True),
    # Fullwidth forms are their ASCII characters.
    ("(x+1)^2", "\uff08x\uff0b1\uff09\u00b2", True), ("42", "\uff14\uff12", True),
    ("(x-1)^2", "\uff08x\uff0b1\uff09\u00b2", False),
    # A run of math spans ending prose is checked like a number: negated, quoted and doubted ones answer nothing.
    ("5", "It is not $5$.", False), ("42", "The text mentions $42$.", False),  # was rewarded
    ("9", "The statement discusses \\(9\\) possibilities.", False), ("42", "It is $42$, but I am unsure.", False),
    ("9", "The smallest positive integer \\(N\\) satisfying the condition is \\(9\\).", True),
    ("1, 2, 3", "So the roots are $1$, $2$ and $3$.", True),
    # An answer statement that a later box of its paragraph contradicts, with no correction between, leaves no answer.
    ("14", "Final Answer: 12. Therefore \\boxed{14}.", False),  # was rewarded
    ("12", "Final Answer: 12. Therefore \\boxed{14}.", False),
    ("14", "The final answer is $14$. So \\boxed{14}.", True), ("2", "final answer: 3; then \\boxed{2}", True),
    ("14", "The answer is 12. Wait, let me recheck: \\boxed{14}", True),
    ("14", "The answer is 12.\n\nPart (b): \\boxed{14}", True),
])
def test_answer_is_colon_fullwidth_forms_negated_math_spans_and_contradicted_boxes(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout16's misses: a "-" glued to the digits after a word of prose and a space is the number's sign, while
# after a variable, a number or a function name it stays a term of a formula.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("-7", "Result is -7", True), ("-7", "temperature -7 degrees", True),  # were refused
    ("-7", "The value of y is -7.", True), ("7", "Result is -7", False), ("-7", "Result is 7", False),
    ("-7", "x -7", False), ("-7", "3 -7", False), ("-7", "Then 2x -7", False), ("-7", "sqrt -7", False),
    ("-7", "we get ab -7", False), ("-7", "Result is - 7", False),
])
def test_a_minus_glued_to_a_number_after_a_word_is_its_sign(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout17's misses: a copula right before an answer marker only introduces it ("The result is Answer: -17"),
# a parenthesised aside that gives the value's reason is no second answer while one that hedges it with another value
# is, and two answer statements with different values and no word of correction between them give no answer, like a
# box that contradicts the statement before it. Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("-17", "The result is Answer: -17", True),  # was refused: a word before the marker qualified it
    ("250", "The total distance is Answer: 250 miles", True),  # was refused
    ("17", "The result is Answer: -17", False), ("5", "The wrong result is Answer: 5", False),
    ("42", "Answer: 42 (this is because we multiplied 6 by 7)", True),  # was refused: "because" then 6 and 7
    ("7", "Answer: 42 (this is because we multiplied 6 by 7)", False), ("42", "Answer: 42 (since 6 x 7 = 42)", True),
    ("5", "Answer: 42 (maybe 5)", False),  # was rewarded: the hedge's value
    ("42", "Answer: 42 (maybe 5)", False), ("5", "The answer is 42 (or 5).", False),
    ("6", "Answer: 5\nAnswer: 6", False),  # was rewarded: the later of two answers
    ("5", "Answer: 5\nAnswer: 6", False), ("42", "Answer: 10 is wrong. Answer: 42", True),
    ("42", "The answer is 40. Wait, let me recheck. The answer is 42.", True),
    ("1/2", "Answer: 0.5\nAnswer: 1/2", True),
    ("42", "Final Answer: The final answer is $42$. I hope it is correct.", True),
])
def test_copula_before_a_marker_reasons_and_hedges_in_parentheses_and_two_conflicting_statements(gold, prediction,
                                                                                                 expected):
  assert rmath.verify(gold, prediction) is expected



# From heldout18's misses: a value that ends the line before a box is no factor of it (only a value on the box's own
# line is: "x=0\\boxed{42}"), so a GSM8K marker followed by a box on the next line answers, and the two must agree
# like an answer statement and a later box; closing markup tags after a marker's value (a tool call's
# "</parameter></function>") are no part of it. Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("42", "Long reasoning...\n#### 42\n\\boxed{42}", True),  # was refused: 42 times the box
    ("42", "so x = 7\n\\boxed{42}", True),  # was refused
    ("42", "x=7\\boxed{42}", False), ("42", "#### 41\n\\boxed{42}", False), ("41", "#### 41\n\\boxed{42}", False),
    ("42", "#### 41\nWait, let me recheck: \\boxed{42}", True),
    ("42", "<function=finish><parameter=answer>#### 42.0</parameter></function>", True),  # was refused
    ("42", "<function=finish><parameter=answer>#### 41</parameter></function>", False),
    ("42", "#### 42 </b>", True), ("42", "#### 42</result></function>", True),
])
def test_a_value_on_the_line_before_a_box_and_closing_tags_after_a_gsm8k_marker(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout19's misses: "Final:" is an answer marker (two of them that disagree leave no answer, like two
# "Answer:" lines); a label that disowns a box on its line ("Example:", "Draft:") or doubt in the box's own sentence
# ("but I will reconsider") leaves it no answer; a text whose last line holds no value and announces work still to do
# has not answered, its last number is a step of the work; a GSM8K marker's line of prose states the value it gives
# ("#### 1,234 apples."); a word such as "checking" earlier in the line of an answer marker, in another clause, is no
# status label of it. Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("43", "FINAL: 42\nFINAL: 43", False),  # was rewarded: the last number
    ("42", "FINAL: 42", True), ("42", "Final: 42", True), ("5", "Jane has 5. Final: #### 5", True),
    ("42", "Example: \\boxed{42}", False),  # was rewarded
    ("42", "**Draft:** $\\boxed{42}$", False),  # was rewarded
    ("42", "Answer: \\boxed{42}", True), ("42", "Step 3: \\boxed{42}", True),
    ("42", "\\boxed{42} but I will reconsider", False),  # was rewarded
    ("42", "\\boxed{42}. Let me reconsider the units: they are right.", True),
    ("42", "Work: 42.\nNow solve the remaining steps.", False),  # was rewarded
    ("42", "Computation\n42", True), ("42", "Work: 42.\nThe answer is 42.", True),
    ("9", "foo 3 bar 9\nnothing", True),
    ("1234", "He has #### 1,234 apples.", True),  # was refused
    ("5", "#### 5 is wrong", False), ("5", "#### 5 thousand", False), ("9", "the total is 9 #### done", False),
    ("2.5", "After checking the work, the final answer is $2.50.", True),  # was refused
    ("10", "Draft answer: 10", False),
])
def test_final_markers_disowned_or_doubted_boxes_prose_after_the_last_value_and_marker_lines(gold, prediction,
                                                                                              expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout20's misses: a JSON object that ends the text answers with its "answer" field (the confidence after it
# was read as the last number); an exclamation mark after a plain number that ends an answer statement is punctuation,
# as after a `####` marker's value; markdown emphasis around a `####` marker is markup; a line of work that ends in
# "so 72" is the equation of the two, whose sides must agree; a verb that gives the result of an operation ("equals")
# restates after a negation that took the operand ("minus 15"). Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("6", 'Step 1: 9 - 3 = 6\nFinal: {"answer": 6, "confidence": 0.9}', True),  # was refused: read as 0.9
    ("0.9", 'Step 1: 9 - 3 = 6\nFinal: {"answer": 6, "confidence": 0.9}', False),  # was rewarded
    ("6", '{"answer": 5, "answer": 6}', False),  # was rewarded: a repeated key answers nothing
    ("1", '{"answer": true}', False), ("12", '{"answer":12}', True), ("1/2", '{"answer": "\\frac{1}{2}"}', True),
    ("29", "The answer is 29!", True),  # was refused: read as 29 factorial
    ("120", "The answer is 5!", False),  # was rewarded: read as 5 factorial
    ("120", "The answer is $5!$", True), ("5", "The answer is 5! = 120", False),
    ("-12.5", "Final answer: **#### -12.5**", True),  # was refused: the closing "**" read as part of the value
    ("42", "#### **42**", True),
    ("42", "#### **41**", False),
    ("72", "48 + 24, so 72", True),  # was refused: read whole as a formula
    ("5", "2 + 2, so 5", False), ("9", "7, so 9", False), ("3", "2, so 3 or 4", False),
    ("y = 5", "x = 3, so y = 5", True),  # was refused
    ("6", "there were 21, minus 15, equals 6", True),  # was refused: "minus" read as negating 6
    ("6", "minus 6", False), ("15", "21 minus 15 equals 6", False), ("5", "not 5, equals 6", False),
])
def test_json_answers_exclaimed_numbers_emphasised_markers_conclusions_and_results_after_an_operand(gold, prediction,
                                                                                                     expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout21's misses: a comparison right before a value makes it a bound or the operand of a difference, not the
# value stated ("The answer is 3 more than 12." was read as 12). Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("12", "The answer is 3 more than 12.", False),  # was rewarded
    ("12", "The answer is more than $12$.", False),  # was rewarded
    ("12", "The answer is at least 12.", False),  # was rewarded
    ("12", "There are 2 fewer than 12 left.", False),  # was rewarded
    ("15", "We need 3 more than 12 apples, so 15.", True), ("12", "The answer is 12.", True),
    ("12", "It is more than 10: it is 12.", True),
])
def test_a_value_after_a_comparison_is_no_answer(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout22's misses: the black lenticular brackets of CJK typography around a stated value set it off, as bold
# does ("The answer is \u301042\u3011" was refused). Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("42", "The answer is \u301042\u3011", True),  # was refused
    ("42", "\u7b54\u6848\u662f\u301042\u3011", True),  # was refused
    ("42", "Final answer: \u301042\u3011.", True),  # was refused
    ("42", "The answer is \u301041\u3011", False), ("42", "The answer is \u301041\u3011 or \u301042\u3011", False),
    ("42", "The answer is \u301042 because 41\u3011", False), ("42", "The answer is \u3010not 42\u3011", False),
])
def test_lenticular_brackets_around_a_stated_value(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout23's misses: a compound name of letters only (m + n, a + b + c, (a + b)/c) shown with its arithmetic
# answers the last side when every numeric side agrees exactly with it ("Answer: m+n = 256+37 = 293" was read as an
# equation between m + n and 293). A side that cannot be checked (elided terms, a letter), a name with a number in it
# (a coefficient, a power, a negation of the whole) and two sides alone (an equation) answer nothing. Each row marked
# "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("293", "Answer: m+n = 256+37 = 293", True),  # was refused
    ("62", "Answer: a+b+c = 12+25+25 = 62", True),  # was refused
    ("219", "$m - n = 256 - 37 = 219$", True),  # was refused
    ("4", "\\boxed{\\frac{a+b}{c} = \\frac{12}{3} = 4}", True),  # was refused
    ("6", "Final answer: xy + z = 2 \\cdot 2 + 2 = 6", True),  # was refused
    ("293", "Answer: k = 256+37 = 293", True),
    ("293", "Answer: m+n = 256+37 = 294", False), ("294", "Answer: m+n = 256+37 = 294", False),
    ("293", "Answer: m+n = 256+37 = 293 = 294", False), ("294", "Answer: m+n = 256+37 = 293 = 294", False),
    ("7", "x = 5 = 7", False), ("5", "2 + 2 = 5", False),
    ("81", "Answer: 2*7 + 3*6 + ... = 81", False),  # elided terms cannot be checked
    ("293", "Answer: m+n = 256+... = 293", False), ("293", "Answer: m+...+n = 256+37 = 293", False),
    ("293", "Answer: m+n = 256+k = 293", False), ("293", "Answer: m+n = 256+37 = 293k", False),
    ("293", "Answer: -m-n = 256+37 = 293", False), ("293", "Answer: 2m+n = 256+37 = 293", False),
    ("293", "Answer: m+m = 256+37 = 293", False), ("293", "Answer: m^2+n = 256+37 = 293", False),
    ("293", "Answer: 1/m+n = 256+37 = 293", False), ("293", "Answer: m+n = 293", False),
    ("1/3", "Answer: m+n = 1/3 = 0.3333", False),  # the sides must agree exactly
    ("x + y = 293", "293", False),
])
def test_a_compound_name_shown_with_its_arithmetic(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout25's misses: LaTeX's braced comma {,} between digits is a decimal comma where it cannot group
# thousands (not three digits after it, or after a lone 0), as a plain comma is, and in the mantissa of scientific
# notation (one digit before it, \times 10^k after) even before three digits. Before three digits elsewhere it still
# groups thousands (1{,}000 is 1000, so 1{,}357 alone does not answer 1.357). Each row marked "was" scored the other
# way before: two wrong answers were rewarded.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("1357", "1{,}357\\times 10^3", True),  # was refused
    ("1.357", "1{,}357\\times 10^0", True),  # was refused
    ("0.00272", "2{,}72 \\cdot 10^{-3}", True),  # was refused
    ("3.5", "3{,}5", True),  # was refused
    ("0.035", "0{,}035", True),  # was refused
    ("-12.75", "-12{,}75", True),  # was refused
    ("1357000", "1{,}357\\times 10^3", False),  # was accepted (thousands in a mantissa)
    ("35", "0{,}035", False),  # was accepted (thousands after a lone 0)
    ("35", "3{,}5", False),
    ("12500", "12{,}500\\times 10^3", False), ("1.357", "1{,}357", False),
    ("1357", "1{,}357", True), ("1000", "1{,}000", True), ("-1234567", "-1{,}234{,}567", True),
    ("1.2345", "1{,}234{,}5", False),
])
def test_braced_decimal_commas(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout26's misses: a run of two or three letters between operators (spaces aside) is a product of variables,
# not a word of prose, so a spaced sum of such products is a formula answer. Prose keeps its words: a short run next
# to another word or a number, or after a comma, still counts as one. Each row marked "was" scored the other way
# before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("(a + b)(c + d)", "ac + ad + bc + bd", True),  # was refused
    ("(x + y)(y + z)", "xy + xz + y^2 + yz", True),  # was refused
    ("2abc/(ac + bc - ab)", "(2abc)/(bc + ca - ab)", True),  # was refused
    ("(a + b)(c + d)", "ac + ad + bc + bc", False), ("(a + b)(c + d)", "ac + ad + bc", False),
    ("5", "We add 2 and 3 to get 5.", True), ("5", "so ab is 5", True), ("ab + cd", "it is ab + cd", False),
])
def test_spaced_products_of_letters_are_a_formula(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout28's misses: in OpenAI's Harmony format (gpt-oss), "<|end|>" ends a message and "<|return|>" or
# "<|call|>" the turn; the answer is the text of the final-channel messages, the analysis channel being the reasoning,
# as a <think> block is. A Harmony completion with no final message has not answered. Each row marked "was" scored the
# other way before (the first "<|end|>" ended the completion, so the reasoning's first message was read as the answer;
# "<|return|>" was read as a space, so text after the turn was read too).
_HARMONY = "<|start|>assistant<|channel|>"


@pytest.mark.parametrize("gold,prediction,expected", [
    ("0.5", f"{_HARMONY}analysis<|message|>x<|end|>{_HARMONY}final<|message|>0.5<|end|>", True),  # was refused
    ("1", f"{_HARMONY}analysis<|message|>x<|end|>{_HARMONY}final<|message|>1.0<|end|>", True),  # was refused
    ("42", f"{_HARMONY}analysis<|message|>6 * 7 = 42<|end|>{_HARMONY}final<|message|>The answer is \\boxed{{42}}."
     "<|return|>", True),
    ("41", f"{_HARMONY}analysis<|message|>maybe 41<|end|>{_HARMONY}final<|message|>\\boxed{{42}}<|return|>",
     False),  # was rewarded
    ("42", f"{_HARMONY}analysis<|message|>The answer is 42.<|end|>", False),  # was rewarded: reasoning only
    ("42", f"{_HARMONY}analysis<|message|>The answer is 42.<|end|>{_HARMONY}final<|message|>", False),  # was rewarded
    ("42", f"{_HARMONY}final<|message|>42<|return|><|start|>user<|message|>41", True),  # was refused
    ("41", f"{_HARMONY}final<|message|>42<|return|><|start|>user<|message|>41", False),  # was rewarded
    ("42", f"{_HARMONY}commentary to=functions.calc <|constrain|>json<|message|>{{\"x\": 42}}<|call|>",
     False),  # was rewarded: a tool call's argument
    ("4", f"{_HARMONY}final<|message|>4<|end|>", True),
])
def test_harmony_messages_answer_with_their_final_channel(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout24's misses: the \abs{x} macro is |x|; a repeating decimal in dot notation (dots over the first and the
# last digit of the block that repeats, one dot over a digit that repeats alone) or with a bar after a bare point
# (.\overline{3}) is the exact rational; a power of i with an integer exponent repeats with period 4, however large the
# exponent. One dot followed by more digits marks no block and is refused, as is \dot over a letter (a derivative).
# Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("5", "\\abs{-5}", True),  # was refused
    ("\\abs{2-7}", "5", True),  # was refused
    ("-5", "\\abs{-5}", False), ("\\abs{x}", "x", False),
    ("\\frac{1}{6}", "0.1\\dot{6}", True),  # was refused
    ("\\frac{9}{11}", "0.\\dot{8}\\dot{1}", True),  # was refused
    ("\\frac{1}{7}", "0.\\dot{1}4285\\dot{7}", True),  # was refused
    ("\\frac{2}{3}", ".\\dot{6}", True),  # was refused
    ("\\frac{2}{3}", ".\\overline{6}", True),  # was refused
    ("0.6", ".\\overline{6}", False), ("0.6", ".\\dot{6}", False), ("\\frac{1}{3}", "0.\\dot{3}3", False),
    ("\\frac{1}{7}", "0.\\dot{1}42857", False), ("\\frac{9}{11}", "0.\\dot{8}1\\dot{1}", False),
    ("\\frac{1}{3}", "0.\\dot{33}", False), ("x", "\\dot{x}", False), ("\\frac{1}{6}", "0.5.\\overline{3}", False),
    ("-1", "i^{1000000000000000000000000000002}", True),  # was refused
    ("-i", "i^{-1}", True), ("1", "i^{2222222222}", False), ("i", "i^{2222222222}", False),
    ("-1", "x^{1000000000000000000000000000002}", False),
])
def test_abs_macro_dotted_repeating_decimals_and_powers_of_i(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


# From heldout10's and heldout11's misses: a unit written after a value of prose stays with it, a one-letter unit
# abbreviation answers the unit the other side names, TeX's power after a function's braced argument, \geqq and
# \leqq, the two spellings of a vector arrow, systems of inequalities in several unknowns, a leading article in a
# word answer, probabilities named P(X = k). Each row marked "was" scored the other way before.
@pytest.mark.parametrize("gold,prediction,expected", [
    ("5 meters", "5 feet", False), ("5 meters", "The rope is 5 feet long.", False),  # was rewarded: 5
    ("5", "The rope is 5 feet long.", True), ("5 cm", "It is 5 centimeters.", True),
    ("3 meters", "3 m", True), ("12 s", "12 seconds", True),  # was refused: 3m and 12s were products
    ("3 meters", "3 s", False), ("3", "3 m", False),
    (r"(\log x)^3", r"\log{x}^3", False), (r"(\log x)^3", r"\log{\left(x\right)}^3", False),  # was rewarded
    (r"\log(x^3)", r"\log{x}^3", True), (r"(\log x)^3", r"{\log x}^3", True), (r"(\sin x)^2", r"\sin^2 x", True),
    (r"x \geq 0", r"x \geqq 0", True), (r"x \le 0", r"x \leqq 0", True), (r"x \leq 0", r"x \geqq 0", False),
    (r"\overrightarrow{AB}", r"\vec{AB}", True), (r"\overrightarrow{AB}", r"\vec{CD}", False),
    (r"a > 0, -4a^2 < b < 0", r"a > 0 \wedge 4a^2 + b > 0 \wedge b < 0", True),
    (r"a > 0, -4a^2 < b < 0", r"a > 0,\ b < 0,\ \text{and}\ 4a^2 + b > 0", True),
    (r"a > 0, -4a^2 < b < 0", r"a > 0 \land b < 0", False),
    (r"a > 0, -4a^2 < b < 0", r"a > 0, b > 0, 4a^2 + b > 0", False),
    ("-2 < x < 1", "x > -2, x < 1", False),  # one unknown: a comma may mean "or", no system
    ("the derivative", "derivative", True), ("the derivative", "the integral", False),
    (r"P(X=0)=\frac{1}{6}, P(X=1)=\frac{5}{6}", r"P(X = 0) = \frac{2}{12}, P(X = 1) = \frac{5}{6}", True),
    (r"P(X=0)=\frac{1}{6}, P(X=1)=\frac{5}{6}", r"P(X = 0) = \frac{5}{6}, P(X = 1) = \frac{1}{6}", False),
    (r"P(X=0)=\frac{1}{6}, P(X=1)=\frac{5}{6}", r"P(X=0)=\frac{1}{6}", False),
])
def test_units_in_prose_function_powers_systems_articles_and_probability_names(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected


@pytest.mark.parametrize("gold,prediction,expected", [
    ("4", "So we have 4x on the left side.", False), ("4", "Step 4: simplify both sides.", False),  # were rewarded
    ("4", "So the answer is 4.", True), ("10", "Try dividing by 3 now. That gives 10.", True),
    ("42", "The final answer is 41 apples; 42 is wrong.", False),  # was rewarded: the value after the semicolon
    ("41", "The final answer is 41 apples; 42 is wrong.", False),  # which one it answers is unclear
    ("42", "#### 42\nWait, the answer is 41.", False),  # was rewarded: the marker beat the later statement
    ("41", "#### 42\nWait, the answer is 41.", True), ("42", "#### 42\nHope this helps!", True),
    ("(5, 2), (7, 2)", "The answer is p=5, q=2; p=7, q=2", True),  # a formula's semicolon separates solutions
])
def test_coefficients_step_numbers_semicolon_clauses_and_statements_after_a_gsm8k_marker(gold, prediction, expected):
  assert rmath.verify(gold, prediction) is expected
