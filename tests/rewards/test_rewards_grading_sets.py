"""The math grader on cases from other projects' test files (developed against, and held out) and on a reward-hacking
policy's answers, and the per-call cap under slow answers. The case files live in benchmarks/data (see
benchmarks/rewards.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from r1jax import rewards
from r1jax.rewards import math as rmath

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


def _cases(name: str) -> list[dict]:
  with open(DATA / name, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


ADVERSARIAL = _cases("math_adversarial_cases.jsonl")
OUTSIDE = _cases("math_outside_cases.jsonl")
DEV = _cases("math_dev_cases.jsonl")
HELD_OUT = _cases("math_heldout_cases.jsonl")  # held out for one run, development data since
HELD_OUT2 = _cases("math_heldout2_cases.jsonl")  # likewise
HELD_OUT3 = _cases("math_heldout3_cases.jsonl")  # likewise
HELD_OUT4 = _cases("math_heldout4_cases.jsonl")  # likewise
HELD_OUT5 = _cases("math_heldout5_cases.jsonl")  # likewise
HELD_OUT6 = _cases("math_heldout6_cases.jsonl")  # likewise
HELD_OUT7 = _cases("math_heldout7_cases.jsonl")  # likewise
HELD_OUT8 = _cases("math_heldout8_cases.jsonl")  # likewise
HELD_OUT9 = _cases("math_heldout9_cases.jsonl")  # likewise
HELD_OUT10 = _cases("math_heldout10_cases.jsonl")  # likewise
HELD_OUT11 = _cases("math_heldout11_cases.jsonl")  # likewise
HELD_OUT12 = _cases("math_heldout12_cases.jsonl")  # likewise
HELD_OUT13 = _cases("math_heldout13_cases.jsonl")  # likewise
HELD_OUT14 = _cases("math_heldout14_cases.jsonl")  # likewise
HELD_OUT15 = _cases("math_heldout15_cases.jsonl")  # likewise
HELD_OUT16 = _cases("math_heldout16_cases.jsonl")  # likewise
HELD_OUT17 = _cases("math_heldout17_cases.jsonl")  # likewise
HELD_OUT18 = _cases("math_heldout18_cases.jsonl")  # likewise
HELD_OUT19 = _cases("math_heldout19_cases.jsonl")  # likewise
HELD_OUT20 = _cases("math_heldout20_cases.jsonl")  # likewise
HELD_OUT21 = _cases("math_heldout21_cases.jsonl")  # likewise
HELD_OUT22 = _cases("math_heldout22_cases.jsonl")  # likewise
HELD_OUT23 = _cases("math_heldout23_cases.jsonl")  # likewise
HELD_OUT24 = _cases("math_heldout24_cases.jsonl")  # likewise
HELD_OUT25 = _cases("math_heldout25_cases.jsonl")  # likewise
HELD_OUT26 = _cases("math_heldout26_cases.jsonl")  # likewise
HELD_OUT27 = _cases("math_heldout27_cases.jsonl")  # likewise
HELD_OUT28 = _cases("math_heldout28_cases.jsonl")  # likewise
HELD_OUT29 = _cases("math_heldout29_cases.jsonl")  # likewise
HELD_OUT30 = _cases("math_heldout30_cases.jsonl")  # likewise
HELD_OUT31 = _cases("math_heldout31_cases.jsonl")  # likewise
HELD_OUT32 = _cases("math_heldout32_cases.jsonl")  # likewise
HELD_OUT33 = _cases("math_heldout33_cases.jsonl")  # likewise
HELD_OUT34 = _cases("math_heldout34_cases.jsonl")  # likewise
HELD_OUT35 = _cases("math_heldout35_cases.jsonl")  # likewise
HELD_OUT36 = _cases("math_heldout36_cases.jsonl")  # likewise
HELD_OUT37 = _cases("math_heldout37_cases.jsonl")  # likewise
HELD_OUT38 = _cases("math_heldout38_cases.jsonl")  # likewise
HELD_OUT39 = _cases("math_heldout39_cases.jsonl")  # likewise
HELD_OUT40 = _cases("math_heldout40_cases.jsonl")  # likewise
HELD_OUT41 = _cases("math_heldout41_cases.jsonl")  # likewise
HELD_OUT42 = _cases("math_heldout42_cases.jsonl")  # likewise (the next round's file is the held-out one)


@pytest.mark.parametrize("case", [c for c in ADVERSARIAL if c["origin"].startswith("probe")],
                         ids=lambda c: f"{c['gold'][:10]}|{c['prediction'][24:60]}")
def test_every_false_positive_found_by_probing_scores_zero(case):
  total, _, _ = rewards.combine({"math_accuracy": 1.0}, [case["prediction"]], gold=[case["gold"]])
  assert total.tolist() == [0.0]


def test_adversarial_answers_score_zero_and_right_answers_in_the_same_shapes_one():
  rewards_, stats = rmath.score([c["prediction"] for c in ADVERSARIAL], [c["gold"] for c in ADVERSARIAL])
  false_positives = [c for c, r in zip(ADVERSARIAL, rewards_) if r == 1.0 and not c["expected"]]
  refused = [c for c, r in zip(ADVERSARIAL, rewards_) if r == 0.0 and c["expected"]]
  assert not false_positives and not refused and stats["errors"] == 0
  assert sum(not c["expected"] for c in ADVERSARIAL) >= 80


def _agreement(split: str) -> tuple[float, list[dict]]:
  files = (OUTSIDE + DEV + HELD_OUT + HELD_OUT2 + HELD_OUT3 + HELD_OUT4 + HELD_OUT5 + HELD_OUT6 + HELD_OUT7
           + HELD_OUT8 + HELD_OUT9 + HELD_OUT10 + HELD_OUT11 + HELD_OUT12 + HELD_OUT13 + HELD_OUT14 + HELD_OUT15
           + HELD_OUT16 + HELD_OUT17 + HELD_OUT18 + HELD_OUT19 + HELD_OUT20 + HELD_OUT21 + HELD_OUT22
           + HELD_OUT23 + HELD_OUT24 + HELD_OUT25 + HELD_OUT26 + HELD_OUT27 + HELD_OUT28 + HELD_OUT29
           + HELD_OUT30 + HELD_OUT31 + HELD_OUT32 + HELD_OUT33 + HELD_OUT34 + HELD_OUT35 + HELD_OUT36
           + HELD_OUT37 + HELD_OUT38 + HELD_OUT39 + HELD_OUT40 + HELD_OUT41 + HELD_OUT42)
  cases = [c for c in files if c["split"] == split]
  rewards_, _ = rmath.score([c["prediction"] for c in cases], [c["gold"] for c in cases])
  agree = sum((r == 1.0) == c["expected"] for c, r in zip(cases, rewards_)) / len(cases)
  return agree, [c for c, r in zip(cases, rewards_) if r == 1.0 and not c["expected"]]


# "report", "heldout", "heldout2", ..., "heldout13" and "heldout14" were each held out for one run, then developed on.
# "report" sits at 192/198: two of its sources credit an added percent sign (10% for 10), which the percent rule
# refuses on purpose (a prediction's percent sign is part of its value).
# "heldout2" sits at 699/709: its remaining misses are units phrases ("radians per second"), functions of a tuple
# (f[(x, y)] = ...), an equation of two computations with a label and a unicode \π.
# "heldout4" sits at 105/108: its misses are golds rounded by their source (1386.15 for 18.02/0.013 inside an
# expression, 0.333333 + (-0.0185185)(x - 5) for (23 - x)/54, 1.09951162778E+12 for 4^20).
# "heldout5" sits at 347/350: its misses are a garbled command its source reads as a box (\beginboxed{8\sqrt{6}}), a
# run of 30 boxes its source reads as its last box (r1jax reads a run of boxes as one list answer) and b = m for a
# gold m (an equation between two letters answers nothing: Khan Academy's checker refuses x for y = x).
# "heldout6" sits at 158/164: its misses are Mathematica's capitalised names (ArcSin(x), Sin(x)), a subscript of
# several letters without braces (v_zmf, which LaTeX reads as v_z m f), a gold that lost its backslash
# (frac{1}{5}$), an answer marked approximate (\approx 5 in its Unicode sign: not the answer 5) and a word answer
# inside a sentence ("Yara is sparse.").
# "heldout7" sits at 412/430: its misses are identities that hold for positive values only (log(a^2 b) against
# 2 log(a) + log(b), (-1)^n cos(x)^n against (-cos(x))^n), set relations and angles written backwards (B ⊃ A for
# A ⊂ B, ∠CBA for ∠ABC), integrals, degrees (180 deg for pi), a percent inside an expression, and a sum of two
# floating-point decimals whose last digit differs from its rounded total (a finite decimal is never approximated).
# "heldout8" sits at 58/72: its misses are SymPy's I as the imaginary unit (e^(Ix), conjugate(2-I), re and im of
# complex numbers), a power above the symbolic-exponent bound (sin(x)**235), sinc and atan2 (conventions differ
# between libraries), and letters glued to a function or to each other (Bsec**2(x), momega^3, omegat).
# "heldout10" sits at 77/78: its miss is "My answer is 4 and then some text with 5 later", a value that a connective
# follows with more values (ambiguous: "7 then $42$" answers nothing).
# "heldout11" (held out for one run at 251/265 with 2 false positives, 2026-11-28) sits at 259/265: its misses are
# inequalities, joined by \lor, \wedge, "or" or Japanese "or", answering a gold interval (a gold interval asks for an
# interval, as -2 <= x <= 2 does not answer [-2, 2]).
# "heldout12" (held out for one run at 255/272 with 4 false positives, 2026-11-28) sits at 260/272: its misses are
# markdown headings before an answer ("#### Final Answer\n42", which r1jax reads as a GSM8K marker), a value stated
# and then explained ("42, which is 6 times 7", ambiguous by the connective rule), numbers in words with the digits
# in an aside, chat-template tokens around the answer, a list answering named values, and "It drops to -42."
# "heldout13" (held out for one run at 157/170 with 2 false positives, 2026-11-28) sits at 162/170 (its gold ½ reads as
# \frac{1}{2} since heldout41's round): its misses are a repeating decimal written 0.333..., a number in another base
# (52_8 for 42), a run of boxes read as one list, "20?", factors reordered inside a fraction, a word gold, a bare list
# for a tuple, an ambiguous 5280/6pi, and negatives in prose followed by a unit word ("-12 dollars", "− 12 degrees").
# "heldout14" (held out for one run at 109/121 with no false positive, 2026-11-28) sits at 118/121: its misses are two
# answers in words a source aliases to its gold (\emptyset for "No such n exists", "finite" for a sentence saying the
# set is finite) and "I get ANSWER: 42", a marker after a word that does not affirm it (read as disowned).
@pytest.mark.parametrize("split,floor", [("tune", 0.97), ("report", 192 / 198), ("dev", 0.97), ("heldout", 0.97),
                                         ("heldout2", 699 / 709), ("heldout3", 0.97), ("heldout4", 105 / 108),
                                         ("heldout5", 347 / 350), ("heldout6", 158 / 164), ("heldout7", 412 / 430),
                                         ("heldout8", 58 / 72), ("heldout10", 77 / 78), ("heldout11", 259 / 265),
                                         ("heldout12", 261 / 272), ("heldout13", 162 / 170), ("heldout14", 118 / 121)])
def test_outside_cases_the_grader_was_developed_against(split, floor):
  agree, false_positives = _agreement(split)
  assert agree >= floor and not false_positives


# "heldout9" sits at 287/288. Its one false positive is a contradiction between two sources: its source's grader
# reads "-2, 1" as not answering "1,-2", while one of Math-Verify's tests (math_outside_cases) labels a MATH solution
# boxing 1,-2 answered by boxes -2 and 1 right; r1jax reads a bare comma list as unordered (the roots of MATH
# answers), so it keeps the outside label.
def test_heldout9_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout9")
  assert agree >= 287 / 288
  assert [(c["gold"], c["prediction"]) for c in false_positives] == [("1,-2", "-2, 1")]
  assert any(c["expected"] and rmath.extract_gold(c["gold"]) == "1,-2" and rmath.extract_answer(c["prediction"])
             == "-2, 1" for c in OUTSIDE)


# "heldout15" (held out for one run at 185/201 with 3 false positives, 2026-11-28) sits at 195/201. Its one false
# positive is a percent convention its sources split on: ZihanLiummyycc/FSG-RL reads 22.22% as 22.22 (so not 0.2222),
# while heldout2, heldout4, heldout5 and heldout6 label 10% right for 0.1, 33.5% for 0.335 and 100% for 1; r1jax reads
# a prediction's percent sign as part of its value and keeps those labels. Its misses: the same convention the other
# way (22.22 % for 22.22, refused on purpose as in "report"), "<think>... #### 42" with the think block never closed
# (no answer by policy), "Final Answer - 25" (a dash that may be a minus sign) and a box of prose behind a doubled
# backslash; its chained inequality with a ceiling is read since chains are split into halves (heldout33's rule).
def test_heldout15_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout15")
  assert agree >= 195 / 201
  assert [(c["gold"], c["prediction"]) for c in false_positives] == [("0.2222", "22.22%")]
  assert sum(c["expected"] and rmath.verify(c["gold"], c["prediction"]) for c in HELD_OUT5
             if c["gold"] == "0.335" and "33.5" in c["prediction"]) >= 2


# "heldout16" (held out for one run at 109/113 with 1 false positive, 2026-11-28) sits at 111/113. Its one false
# positive is a parenthesised value its sources split on: DebmalyaPal/when-to-reflect reads \left( \frac{1}{2} \right)
# as not answering \frac{1}{2}, while heldout11 labels \left(\frac{3}{2}\right) right for \frac{3}{2} and heldout10
# (5) for 5; r1jax reads parentheses around one value as grouping and keeps those labels. Its misses: the same pair,
# and "intermediate \boxed{99} #### 42", a box and a later GSM8K marker that disagree (r1jax reads the box, which it
# ranks above a #### marker; TinyLoRA's extractor ranks the marker first).
def test_heldout16_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout16")
  assert agree >= 111 / 113
  assert [(c["gold"], c["prediction"]) for c in false_positives] == [("\\frac{1}{2}", "\\left( \\frac{1}{2} \\right)")]
  assert any(c["expected"] and c["gold"] == "\\frac{3}{2}" and c["prediction"] == "\\left(\\frac{3}{2}\\right)"
             for c in HELD_OUT11)


# "heldout17" (held out for one run at 175/184 with 1 false positive, 2026-11-28) sits at 180/184 with none. Its false
# positive was "Answer: 5\nAnswer: 6" for 6: plero80/reward-gap-lab reads two answer statements that disagree as no
# answer, as r1jax reads a box that contradicts the statement before it, while dumbkin31/exploration-in-grpo reads
# "Answer: 1\nAnswer: 2" as 2; r1jax keeps the first label (when unsure, the answer is wrong), so the second is
# refused. Its other misses: "First #### 10, but Answer: 42" (a GSM8K marker whose line goes on to another answer
# statement), and "X = 7" against "x = 7" (a tutor's checker ignores the case of a variable; r1jax does not).
def test_heldout17_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout17")
  assert agree >= 180 / 184 and not false_positives
  assert any(c["expected"] and c["prediction"] == "Answer: 1\nAnswer: 2" for c in HELD_OUT17)


# "heldout18" (held out for one run at 158/164 with 1 false positive, 2026-11-28) sits at 160/164 with that one. Its
# false positive is a correction its sources split on: kopanevk/didactic-collapse reads "Final answer: 41\nActually,
# Final answer: 42" as two candidate answers and so none, while FedExodus/selective-resistance reads "FINAL ANSWER:
# 10\nActually no.\nFINAL ANSWER: 12" as 12, mianwu01/tts-sft "Answer: 3\nlet me reconsider\nAnswer: 5" as 5 and
# LeoPhilly/grpo-profiling-harness "#### 5 is wrong, actually\n#### 7" as 7; r1jax reads a word of correction between
# two answer statements as correcting the first and keeps the majority's labels. Its misses: the same pair, 50% for 50
# (a prediction's percent sign is part of its value, as in "report"), three boxes joined by "..." for the last one's
# value (a run of boxes joined by punctuation is one list answer) and "the total is 9 #### done" (a GSM8K marker that
# states no value leaves no answer).
def test_heldout18_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout18")
  assert agree >= 160 / 164
  assert [(c["gold"], c["prediction"]) for c in false_positives] == [
      ("42", "Final answer: 41\nActually, Final answer: 42")]
  corrected = ("FINAL ANSWER: 10\nActually no.\nFINAL ANSWER: 12", "Answer: 3\nlet me reconsider\nAnswer: 5",
               "#### 5 is wrong, actually\n#### 7")
  majority = [c for c in HELD_OUT18 if c["prediction"] in corrected]
  assert len(majority) == 3 and all(c["expected"] and rmath.verify(c["gold"], c["prediction"]) for c in majority)


# "heldout19" (held out for one run at 187/196 with 5 false positives, 2026-11-28) sits at 193/196 with 1. Its false
# positive is a pair its sources split on: srujunakrishnapriya4-dot/nemotron_solver_sprint refuses any completion with
# several boxes ("\\boxed{17} then \\boxed{42}"), while four other sources of the file read the last box as the
# answer ("First we get \\boxed{7}, then \\boxed{6}, so the final answer is \\boxed{42}", "First try \\boxed{42},
# actually \\boxed{866}"); r1jax keeps the majority's labels. Its refusals left: "Answer:  42 ... ANSWER:  43" for 43
# (two answer statements that disagree: plero80/reward-gap-lab and lukifer23/LeanQwen read them as no answer,
# dumbkin31/exploration-in-grpo and DavidBellamy/grpo-gsm8k as the last one; with the sources split evenly, the answer
# is wrong when unsure) and "\\boxed{1} and \\boxed{2}" for 2 (boxes joined by "and" are one list answer).
def test_heldout19_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout19")
  assert agree >= 193 / 196
  assert [(c["gold"], c["prediction"]) for c in false_positives] == [("42", "\\boxed{17} then \\boxed{42}")]
  last_box = ("First we get \\boxed{7}, then \\boxed{6}, so the final answer is \\boxed{42}.",
              "First try \\boxed{42}, actually \\boxed{866}")
  majority = [c for c in HELD_OUT19 if c["prediction"] in last_box]
  assert len(majority) == 2 and all(c["expected"] and rmath.verify(c["gold"], c["prediction"]) for c in majority)


# "heldout20" (held out for one run at 171/183 with no false positive, 2026-11-28) sits at 176/183 with none. Its
# refusals left: "no marker, ends with 17" (a "no" earlier in the text negates the clause), "with commas Final: 1,000"
# (a word before the marker qualifies it), "intermediate 7, last 9" (a status word on the line), a rupee sign and
# Indian digit grouping ("\u20b9300", "12,34,567": no currency but the dollar is dropped, and "12,34,567" may be a
# list), a bold value with another number after it in its sentence, and a box that says "Approximately 95 minutes"
# for 95; each is refused on purpose, as the answer is wrong when unsure.
def test_heldout20_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout20")
  assert agree >= 176 / 183 and not false_positives


# "heldout21" (held out for one run at 77/80 with 3 false positives, 2026-11-28) sits at 78/80 with 2. One rule fixed
# the third ("The answer is 3 more than 12." was read as 12). The two left are a policy its sources split on:
# fusion-gateway's official MATH checker does not strip "x \\in" before an interval, so "[-2,7]" does not answer
# "x \\in [-2,7]" there, while other files label a solution set and its interval the same answer (heldout11:
# "x < -2 or 1 < x" for "(-\\infty, -2) \\cup (1, \\infty)"); r1jax reads "x \\in I" as the set I.
def test_heldout21_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout21")
  assert agree >= 78 / 80
  assert sorted(c["prediction"] for c in false_positives) == ["[-2,7]", "so \\boxed{[-2,7]}"]


# "heldout22" (held out for one run at 46/49 with no false positive, 2026-11-28) sits at 47/49 with none. One rule fixed
# the first of its three misses ("The answer is \u301042\u3011": the lenticular brackets of CJK typography set off a
# stated value). The two left are refusals by policy: a word that is not one of the affirming ones before an answer
# marker qualifies it ("blah Answer: 42", as "Wrong answer: 42" or "Candidate answer: 42"), and a value followed by a
# connective and another value is ambiguous ("The answer is 123 and then 456.", as "$7$ because $42$").
def test_heldout22_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout22")
  assert agree >= 47 / 49 and not false_positives


# "heldout23" (held out for one run at 23/26 with no false positive, 2026-11-28) sits at 25/26 with none. Its three
# misses were answer lines that show their arithmetic after a compound name; one rule fixed two ("Answer: m+n = 256+37 =
# 293": a name of letters only whose numeric sides all agree exactly with the last answers the last). The one left is a
# refusal by policy: "Answer: 2*7 + 3*6 + ... = 81" elides terms, so its sides cannot be checked.
def test_heldout23_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout23")
  assert agree >= 25 / 26 and not false_positives


# "heldout24" (held out for one run at 116/136 with no false positive, 2026-11-28) sits at 131/136 with none. Its
# misses were notation not read: the \abs{x} macro, repeating decimals in dot notation or after a bare point
# (.\overline{3}), powers of i past the exponent bound. The five left are refusals by policy: one dot before more digits
# marks no block (3.\dot{1}42857), a block in parentheses (0.(81)) reads as a product as well and ratios are compared
# as written (10:20 against 1:2); its chain over two variables (1<x<2<y<3) is read since chains are split into halves
# (heldout33's rule).
def test_heldout24_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout24")
  assert agree >= 131 / 136 and not false_positives


# "heldout25" (held out for one run at 96/100 with one false positive, 2026-11-28) sits at 98/100. Its misses were
# LaTeX's braced decimal comma in the mantissa of scientific notation (1{,}357 \times 10^3). The two left are labels
# kept apart by policy: 1{,}357 alone groups thousands as in other files (1{,}000), and 0.33333333333333, 1/3
# truncated to 14 digits, answers 1/3 (the source refuses it only below its float tolerance: one more 3 passes).
def test_heldout25_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout25")
  assert agree >= 98 / 100 and len(false_positives) <= 1


# "heldout26" (held out for one run at 107/108 with no false positive, 2026-11-28: the target of 97% with none met)
# sits at 108/108. Its one miss was a spaced sum of products of letters (ac + ad + bc + bd) read as prose.
def test_heldout26_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout26")
  assert agree == 1.0 and not false_positives


# "heldout27" (held out for one run at 48/48 with no false positive, 2026-11-28: the target met) sits at 48/48. It
# had no miss to list, so no rule came from it.
def test_heldout27_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout27")
  assert agree == 1.0 and not false_positives


# "heldout28" (held out for one run at 46/48 with no false positive, 2026-11-28: below the target of 97%) sits at
# 48/48. Its two misses were Harmony completions (gpt-oss) whose analysis message came before the final one.
def test_heldout28_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout28")
  assert agree == 1.0 and not false_positives


# "heldout29" (held out for one run at 151/161 with no false positive, 2026-11-28: below the target of 97%) sits at
# 151/161; no rule came from its misses. Six are identities of powers whose exponent holds a variable
# ((x)^(2*t)*(x)^(3)+((x)^(2))^(2) for (x)^(2*t+3)+(x)^(4)): exact evaluation at the probe points runs out of time.
# Evaluated numerically they pass, but so does (a^b)^c for a^(b*c), which heldout3's source labels wrong ((a^b)^c is
# not a^(bc) at a = -1, b = 2, c = 1/2), and requiring the principal values to agree where both sides are non-real
# refuses three right answers of earlier files instead (((x-2)^3)^k for (x-2)^(3k), a relabelled power of a power,
# log(y^x) for x log(y)). Four are a percent sign after a bare 75 ("75\%" for 75), which its source accepts and r1jax
# refuses by policy (a prediction's percent sign is part of its value).
def test_heldout29_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout29")
  assert agree >= 151 / 161 and not false_positives


# "heldout30" (held out for one run at 118/138 with no false positive, 2026-11-29: below the target of 97%) sits at
# 121/138 since the rule its misses led to: digits grouped in threes by spaces after the decimal point, as the SI
# writes them (12 345.678 9, and 1,234 5 with a decimal comma), are one number. Its other seventeen misses are left:
# mixed numbers written with spaces or before pi (-4 5/6pi, a spaced 1 1 / 2), a gold that writes x for the times
# sign between digits (2x2x3x5), thousands separators that are dots or sit in the decimal part (41.976 for 41976,
# 12.345,6789, 12,345.678,9), sums of lengths with units as golds (2 cm + 3 cm, 500 cm for 2 m + 3 m), 5,0 (a
# list of two numbers as well as a decimal comma), a colon for division inside a bracket (a-(c:d)) and 1 2 3 4 for
# 1234, all of which r1jax refuses by policy or cannot read without also rewarding a wrong answer of that shape.
def test_heldout30_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout30")
  assert agree >= 121 / 138 and not false_positives


# "heldout31" (held out for one run at 63/78 with no false positive, 2026-11-29: below the target of 97%) sits at
# 67/78 since the rule its misses led to: max and min of a parenthesised list, in plain and SymPy spellings (max(m,n)
# for Max(n, m), max(m) for m). Its other eleven misses are left: Greek letters typed as letters against their names
# (mu0, phi, rho), which r1jax reads as products of letters when the name has three letters or fewer; the sign
# function (sign, sgn), atan2 against arctan2, and SymPy's I and Infinity against sqrt(-1) and infty; functions
# applied without brackets (5mn sin m + arccos 3n, sin n); and the arguments of an unknown function reordered
# (beef(m + n)): none can be read without also rewarding a wrong answer of that shape (a product of letters, a
# variable named I).
def test_heldout31_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout31")
  assert agree >= 67 / 78 and not false_positives


# "heldout32" (held out for one run at 27/30 with no false positive, 2026-11-29: below the target of 97%) stays at
# 27/30: its three misses led to no rule. A list answered as a tuple (12,34 for (12,34)), where 12,34 also reads as a
# decimal comma; a column vector written as an array without a column spec against the list 1,2; and false for no,
# a single pair of yes/no against true/false words that no other file labels: none can be read without also
# rewarding a wrong answer of that shape.
def test_heldout32_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout32")
  assert agree >= 27 / 30 and not false_positives


# "heldout33" (held out for one run at 171/189 with no false positive, 2026-11-29: below the target of 97%) sits at
# 184/189 since the rules its misses led to: chains whose middle is an expression (33 <= 3(x+4) <= 42 for
# 11 <= x+4 <= 14, 360pi < 12pi x < 480pi for 30 < x < 40), split into halves matched one to one, and the checker's
# \nthroot macro (\nthroot[3]{8} for 2, \nthroot{5}{a^3} for a^(3/5); heldout34's rule). Its other five misses are
# left: equations multiplied or divided by a variable (xy=12 for y=12/x, y/x=4 for y=4x, f/e=4/3 for e/f=3/4,
# x/(4t)+y/(2t)=1 for y=-x/2+2t), whose sides differ by more than a constant factor, so that reading them would also
# equate x(x-1)=0 with x-1=0; and a^(4/5) for \nthroot{5}{a^4}, refused as for \sqrt[5]{a^4}: the fifth root of a^4
# is |a|^(4/5), not a^(4/5) for a negative a.
def test_heldout33_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout33")
  assert agree >= 184 / 189 and not false_positives


# "heldout34" (held out for one run at 61/67 with no false positive, 2026-11-29: below the target of 97%) sits at
# 62/67 since the rule its misses led to: the asterisk operator U+2217 reads as LaTeX's \ast (3∗x for 3x), and the
# \nthroot macro of heldout33's checker with it. Its other five misses are left, a policy: an inequality does not
# answer a gold interval (1<x<2 for (1,2), 1≤x<2 for [1,2), 2>x>1 for (1,2)), as a gold interval asks for an
# interval, while an interval answers a gold inequality.
def test_heldout34_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout34")
  assert agree >= 62 / 67 and not false_positives


# "heldout35" (held out for one run at 47/55 with no false positive, 2026-11-29: below the target of 97%) stays at
# 47/55: its eight misses led to no rule. All are numbers its checker accepts within a tolerance: 3.1401 and 3.1399
# for 3.14, decimals rounded to three or two places for a fraction (0.333 for 1/3, 0.67 for 2/3, 0.17 for 1/6), and
# (3.0005, 4.0005) for (3, 4). Other files label such numbers wrong (0.33 for 1/3, 2.01 for 2.0, -2.71 for -2.70,
# 1.200000001 for 1.200), so reading them would reward wrong answers of the same shape.
def test_heldout35_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout35")
  assert agree >= 47 / 55 and not false_positives


# "heldout36" (held out for one run at 118/119 with one false positive, 2026-11-29: 97% agreement, but not the target,
# which asks for no false positive) stays at 118/119: its one miss led to no rule. It is "1; DROP TABLE users;--" for 1,
# a reply with no answer marker whose one value is 1, read by the policy that a reply without a marker answers with
# the last value of its prose (which other files' labels rest on: "the answer is -7" for -7, "5cm" for 5). What makes
# it wrong is what its words say, which no rule of answer reading can tell from a right answer followed by words.
def test_heldout36_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout36")
  assert agree >= 118 / 119 and len(false_positives) <= 1


# "heldout37" (held out for one run at 50/62 with no false positive, 2026-11-29: below the target of 97%) sits at
# 52/62 since the rule its misses led to: a sign said in a word before a lone number ("minus 6" is -6, "minus 1" is
# -1). Its other ten misses are left, by policy: numbers in words (five, twelve, minus six, minus one third), which
# other files label wrong ("The answer is forty-two." for 42, \text{forty-two} in a box), and Spanish replies whose
# value a sign or a unit hides from the prose reading ("el resultado es -3", "La aceleración es 9.8 m/s^2", a
# self-correction in Spanish, two solutions joined by "y").
def test_heldout37_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout37")
  assert agree >= 52 / 62 and not false_positives


# "heldout38" (held out for one run at 69/86 with no false positive, 2026-11-29: below the target of 97%) sits at
# 71/86 since the rule its misses led to: the radical sign covers the whole number after it (20√57 is 20\sqrt{57}).
# Its other fifteen misses are left, by policy: units the gold does not name (5m, 45deg, 100ms, 1/2 m, **10 m** for
# $10$), prose whose last value is an unevaluated sum or product ("So the result is 5 − 1" for 4), a reply that
# opens with ≈, and values followed by a remark (7+e^{-4}, attained at ...; −1/4 (i.e., −$0.25)).
def test_heldout38_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout38")
  assert agree >= 71 / 86 and not false_positives


# "heldout39" (held out for one run at 145/146 with no false positive, 2026-11-29: above the target of 97%) stays at
# 145/146: its one miss led to no rule. It is x\le4 for 4\gex, a gold whose "\gex" is no LaTeX command; the source's
# parser reads it as \ge x, but a command glued to the letter after it is not split (\left, \leq and \gets start the
# same way), so the gold does not read as an inequality and the pair is refused.
def test_heldout39_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout39")
  assert agree >= 145 / 146 and not false_positives


# "heldout40" (held out for one run at 69/82 with one false positive, 2026-11-29: below the target of 97%) sits at
# 76/82 with none since the three rules its misses led to: the radical sign before a lone letter covers it (2√x + C
# is 2\sqrt{x} + C), the plus-minus character is \pm (5 ± x is 5 + x, 5 - x), and nCr and nPr between two whole
# numbers are combinations and permutations (5C3 is \binom{5}{3}, so 3C5, read before as the product 15C, no longer
# answers it). Its other six misses are left: a constant of integration in the other case (x^5/5 + c, sinx + c and
# x+c for + C; letters keep their case, as a triangle's sides a, b, c are not its angles A, B, C), an ordered pair for
# a bare list ((1, -2) for 1,-2), "1, 000" for 1000 (a comma and a space separate a list), and sin(θ) for sinθ (the
# character θ is not read as \theta).
def test_heldout40_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout40")
  assert agree >= 76 / 82 and not false_positives


# "heldout41" (held out for one run at 80/88 with one false positive, 2026-11-29: below the target of 97%) sits at
# 83/88 since the three rules its misses led to: a vulgar fraction character is its fraction (½ is \frac{1}{2}), the
# plus-minus sign typed in ASCII is \pm (+-5 and +/-), and the word sqrt before a number covers it (8sqrt3 is
# 8\sqrt{3}). Its one false positive is left, a label sources split on: 0.666667 for 2/3, which Bredson/matematyka-e8
# refuses as rounded while the decimal policy accepts a rounding to 4+ significant digits (and aleshp/mathLab, in
# this file, labels 1/3 right for 0.333333). So are four misses, by policy: 1000 for 1000.0000001 (two different
# numbers), sqrt(3)/2 and 0.866 for each other (a rounding to three digits), and 8 m³ for 8 (a one-letter unit only
# where the other side names it).
def test_heldout41_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout41")
  assert agree >= 83 / 88 and len(false_positives) <= 1


# "heldout42" (held out for one run at 63/67 with no false positive, 2026-11-29: below the target of 97%) sits at
# 66/67 since the two rules its misses led to: x or X between a number and a power of ten is a times sign (3x10^8 is
# 3 \times 10^8), and pct glued to its number is the percent word (25pct is 25 pct). Its one miss left is 1½ for 1.5,
# a vulgar fraction glued to a digit, which stays unread since 1½ may be the mixed number or the product.
def test_heldout42_cases_the_grader_was_developed_against():
  agree, false_positives = _agreement("heldout42")
  assert agree >= 66 / 67 and not false_positives


def test_held_out_cases_stay_at_their_measured_level():
  """A floor, not the target: at the held-out file's one run (2026-11-29, python -m benchmarks.rewards --skip-slow)
  the grader agreed with 63 of its 67 labels and rewarded none of its 12 wrong answers; a change must not do
  worse."""
  agree, false_positives = _agreement("heldout42")
  assert len(HELD_OUT42) == 67 and sum(not c["expected"] for c in HELD_OUT42) == 12
  assert agree >= 63 / 67 and not false_positives


def _slow_batch():
  slow = [rf"<answer>\boxed{{\frac{{(x+1)^{{{k}}}(y+1)^{{200}}(z+1)^{{200}}}}{{\lfloor x^2/100\rfloor}}}}</answer>"
          for k in range(3, 13)]
  right = [rf"<answer>\boxed{{(x+{k})^2}}</answer>" for k in range(40)]
  return slow + right, ["x"] * len(slow) + [f"x^2 + {2 * k}x + {k * k}" for k in range(40)], len(slow)


def test_slow_answers_cost_no_other_answer_its_reward_and_their_timeouts_are_cached():
  completions, golds, n_slow = _slow_batch()
  rmath.clear_cache()
  rmath.configure(timeout=1.0, batch_timeout=3.0, first_timeout=0.1)  # 10 slow items need ~5 s at full timeout
  try:
    start = time.monotonic()
    rewards_, stats = rmath.score(completions, golds)
    first = time.monotonic() - start
    start = time.monotonic()
    again, stats_again = rmath.score(completions, golds)
    second = time.monotonic() - start
  finally:
    rmath.configure(timeout=3.0, batch_timeout=60.0, first_timeout=0.25)
  assert rewards_[n_slow:] == [1.0] * 40 and again[n_slow:] == [1.0] * 40
  assert rewards_[:n_slow] == [0.0] * n_slow
  assert stats["timeouts"] == n_slow and 0 < stats["batch_cap"] < n_slow  # the cap fell on slow items only
  assert first < 10.0 and second < 10.0
  assert stats_again["cached"] >= 40 + n_slow - stats["batch_cap"]  # timed-out answers are not judged again


@pytest.mark.parametrize("completion", [
    "<think>.</think>" + r"\boxed{" + "{}" * 5_000_000 + "}",
    "<think>.</think>" + r"\boxed{" * 1_000_000,
    "<think>.</think><answer>" + "(" * 5_000_000 + "</answer>",
    "x " * 5_000_000 + "= 5",
])
def test_extraction_of_a_huge_completion_is_bounded(completion):
  start = time.monotonic()
  rmath.extract_answer(completion)
  assert rmath.score([completion], ["7"])[0] == [0.0]
  assert time.monotonic() - start < 2.0
