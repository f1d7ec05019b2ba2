"""Agreement and throughput of `r1jax.rewards.math.verify` against math-verify on a hand-labelled answer set.

    pip install "math-verify[antlr4_13_2]"      # benchmark-only dependency
    python -m benchmarks.rewards                  # [--data benchmarks/data/math_answer_pairs.jsonl] [--batch 512]

The labelled set (benchmarks/data/math_answer_pairs.jsonl, one {"category", "gold", "prediction", "label"} per
line) holds pairs in the categories answer graders are tested on — integers, decimals, fractions, radicals, pi,
symbolic expressions, equations, intervals, sets, tuples, matrices, units and text, percent, degrees, thousands
separators, complex numbers, whole completions, GSM8K / MATH gold strings, and hostile inputs — each labelled by
whether the prediction is mathematically the gold answer.

Printed: each grader's agreement with the labels, its false positives (rewarding a wrong answer: what RL
exploits) and false negatives, the pairs where one is wrong, time per pair for both (mean and median; cold caches,
warm processes) and their ratios, and the time r1jax takes to score one rollout batch of typical completions.
math-verify is called as documented: `verify(parse(gold), parse(prediction))`, with bare answers (no $, \\boxed or
prose) wrapped in $...$ first, since its LaTeX extraction looks for delimiters.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import statistics
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).parent / "data" / "math_answer_pairs.jsonl"


def load_pairs(path: Path) -> list[dict]:
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def r1jax_grader():
  from r1jax.rewards import math as rmath

  rmath.warmup()
  rmath.verify("x + 1", "1 + x")  # wait for the workers: process start-up is not what this measures
  rmath.clear_cache()
  return rmath.verify


def _latex_delimited(text: str) -> str:
  """A bare answer ("2x+3", "[1, 3)") wrapped in $...$, the form math-verify's LaTeX extraction expects (unwrapped,
  it reads only numbers out of such strings); completions and delimited strings are passed as they are."""
  markers = ("$", "\\boxed", "####", "<think>", "<answer>", "\\(", "\\[")
  prose = re.search(r"(?<![\\a-zA-Z])[a-zA-Z]{4,}", re.sub(r"\\(?:text|mbox)\s*\{[^{}]*\}", "", text))
  if any(m in text for m in markers) or prose or not text.strip():
    return text
  return f"${text}$"


def math_verify_grader():
  import math_verify

  logging.getLogger("math_verify").setLevel(logging.CRITICAL)

  def verify(gold: str, prediction: str) -> bool:
    gold_parsed = math_verify.parse(_latex_delimited(gold))
    return bool(math_verify.verify(gold_parsed, math_verify.parse(_latex_delimited(prediction))))

  return verify


def run_grader(verify, pairs: list[dict]) -> tuple[list[bool], list[float]]:
  """Verdicts and seconds for each pair (sequential, one call per pair)."""
  verdicts, seconds = [], []
  for pair in pairs:
    start = time.perf_counter()
    try:
      verdicts.append(bool(verify(pair["gold"], pair["prediction"])))
    except Exception:  # a grader that raises counts as "not equal"
      verdicts.append(False)
    seconds.append(time.perf_counter() - start)
  return verdicts, seconds


def summarize(name: str, verdicts: list[bool], pairs: list[dict]) -> dict:
  labels = [p["label"] for p in pairs]
  agree = sum(v == l for v, l in zip(verdicts, labels))
  fp = sum(v and not l for v, l in zip(verdicts, labels))
  fn = sum(l and not v for v, l in zip(verdicts, labels))
  print(f"{name:12s} agreement {agree}/{len(pairs)} = {agree / len(pairs):.1%}   false positives {fp}   "
        f"false negatives {fn}")
  return {"agree": agree, "fp": fp, "fn": fn}


def typical_batch(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
  """A rollout batch of typical completions: boxed integers, fractions, short expressions; about half wrong."""
  rng = random.Random(seed)
  completions, golds = [], []
  for i in range(n):
    kind = i % 4
    a, b = rng.randint(1, 99), rng.randint(2, 50)
    if kind == 0:
      gold, answer = str(a * b), str(a * b + rng.choice([0, 0, 1]))
    elif kind == 1:
      gold, answer = f"\\frac{{{a}}}{{{b}}}", rng.choice([f"\\frac{{{2 * a}}}{{{2 * b}}}", f"{a}/{b}", f"{a + 1}/{b}"])
    elif kind == 2:
      gold, answer = f"{a}\\sqrt{{{b}}}", rng.choice([f"\\sqrt{{{a * a * b}}}", f"{a}\\sqrt{{{b + 1}}}"])
    else:
      gold, answer = f"x^2 + {2 * a}x + {a * a}", rng.choice([f"(x+{a})^2", f"(x+{a + 1})^2"])
    completions.append(f"<think>Let me work through it step by step ... {a} and {b} ...</think>\n"
                       f"<answer>The result is $\\boxed{{{answer}}}$</answer>")
    golds.append(gold)
  return completions, golds


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
  parser.add_argument("--batch", type=int, default=512)
  args = parser.parse_args()

  pairs = load_pairs(args.data)
  print(f"{len(pairs)} labelled pairs ({sum(p['label'] for p in pairs)} equivalent) from {args.data}")
  ours, ours_time = run_grader(r1jax_grader(), pairs)
  theirs, theirs_time = run_grader(math_verify_grader(), pairs)
  ours_summary = summarize("r1jax", ours, pairs)
  summarize("math-verify", theirs, pairs)
  ours_mean, theirs_mean = statistics.mean(ours_time), statistics.mean(theirs_time)
  ours_median, theirs_median = statistics.median(ours_time), statistics.median(theirs_time)
  print(f"time per pair, mean: r1jax {ours_mean * 1e3:.2f} ms, math-verify {theirs_mean * 1e3:.2f} ms "
        f"(math-verify / r1jax = {theirs_mean / ours_mean:.1f}x); median: r1jax {ours_median * 1e3:.2f} ms, "
        f"math-verify {theirs_median * 1e3:.2f} ms ({theirs_median / ours_median:.1f}x)")
  slowest = max(range(len(pairs)), key=lambda i: theirs_time[i])
  print(f"slowest math-verify pair: {pairs[slowest]['prediction'][:50]!r} {theirs_time[slowest]:.2f} s; "
        f"slowest r1jax pair: {max(ours_time):.3f} s")

  print("\npairs where a grader is wrong (label | r1jax | math-verify):")
  for pair, o, t in zip(pairs, ours, theirs):
    if o != pair["label"] or t != pair["label"]:
      print(f"  [{pair['category']}] {pair['gold'][:40]!r} vs {pair['prediction'][:60]!r}: {pair['label']} | {o} | {t}")

  from r1jax.rewards import math as rmath

  completions, golds = typical_batch(args.batch)
  rmath.clear_cache()
  start = time.perf_counter()
  rewards, stats = rmath.score(completions, golds)
  elapsed = time.perf_counter() - start
  print(f"\nr1jax scores a batch of {args.batch} typical completions in {elapsed:.3f} s "
        f"(cold cache; mean reward {sum(rewards) / len(rewards):.2f}; {stats})")
  rmath.shutdown()
  if ours_summary["fp"]:
    print("WARNING: r1jax has false positives")


if __name__ == "__main__":
  main()
