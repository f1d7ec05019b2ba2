"""Math accuracy: answer extraction, normalisation and equivalence checking with sympy, safe on hostile output.

    from r1jax.rewards import math
    math.verify("\\frac{1}{2}", "... so the answer is \\boxed{0.5}.")         # True
    math.accuracy_reward(completions, golds, prefill="<think>")              # [1.0, 0.0, ...]
    rewards, stats = math.score(completions, golds)                          # stats: timeouts, parse failures, ...

The pipeline for one (completion, gold) pair:

  1. Extraction (cheap string scans, linear time, no backtracking regex on the whole text). From the completion,
     looking after the last `</think>` when there is text there: the last `<answer>...</answer>` (its last
     `\\boxed{}` if it has one), else the last `\\boxed{...}` / `\\fbox{...}` (nested braces), else GSM8K
     `#### N`, else "the (final) answer is ..." / "answer: ...", else the whole text when it is a short formula,
     else the last number. From the gold: `#### N` (GSM8K), else the last `\\boxed{}` (MATH solutions), else the
     whole string (an answer column).
  2. Normalisation (string rewriting): `$`, `\\left`/`\\right`, spacing commands, `\\dfrac`/`\\tfrac`, `\\text{}`
     and units, degrees, percent (remembered: 25% matches 25 and 0.25), dollars, thousands separators,
     "or"/"and" between answers, trailing punctuation.
  3. A fast path in this process: identical strings, plain numbers (exact fractions.Fraction arithmetic), `x = 5`
     against a plain number, and word answers ("odd", "Yes") compared as text.
  4. Everything else goes to the worker pool (r1jax.rewards._pool), which parses with r1jax's own parser (never
     eval / sympify) and compares with sympy under a hard per-item time limit. Results are cached by
     (gold, answer) and duplicates within a batch are judged once.

A timeout, a parse failure or a crashed worker gives reward 0 and is counted in the returned stats (and in the
cumulative `counters()`); nothing raises into the training loop.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import threading
from fractions import Fraction

from r1jax.rewards import _pool, _text

MAX_ANSWER_CHARS = 1000  # extracted answers longer than this are not parsed (parse failure)
MAX_FAST_DIGITS = 60  # plain numbers up to this many digits are compared in-process
INEXACT_RTOL = Fraction(1, 10**6)

# Tunables (see configure()).
_config = {
    "num_workers": max(1, min(4, os.cpu_count() or 1)),
    "timeout": 3.0,  # seconds per item (hard: the worker is killed)
    "batch_timeout": 60.0,  # seconds per call, whatever the batch holds
    "cache_size": 100_000,
}
_lock = threading.RLock()
_cache: collections.OrderedDict = collections.OrderedDict()
_pool_instance: _pool.WorkerPool | None = None
_counters: collections.Counter = collections.Counter()
_log = logging.getLogger(__name__)
_CACHEABLE = ("ok", "parse_error", "gold_parse_error")  # deterministic outcomes; timeouts may be load-dependent


# ---------------------------------------------------------------------------------------------------------------
# Extraction


_BRACE_EVENTS = re.compile(r"\\.|[{}]", re.DOTALL)


def _match_brace(text: str, open_index: int) -> int:
  """Index of the '}' closing the '{' at open_index (escaped braces skipped), or -1. Linear, no recursion."""
  depth = 0
  for m in _BRACE_EVENTS.finditer(text, open_index):
    c = m.group()
    if c == "{":
      depth += 1
    elif c == "}":
      depth -= 1
      if depth == 0:
        return m.start()
  return -1


def last_boxed(text: str) -> str | None:
  """Content of the last closed `\\boxed{...}` or `\\fbox{...}` (also `\\boxed 5`), or None."""
  end = len(text)
  for _ in range(3):  # an unclosed last box falls back to the previous one; bounded so this stays linear
    start = max(text.rfind("\\boxed", 0, end), text.rfind("\\fbox", 0, end))
    if start < 0:
      return None
    name_end = start + (6 if text.startswith("\\boxed", start) else 5)
    i = name_end
    while i < len(text) and text[i] == " ":
      i += 1
    if i < len(text) and text[i] == "{":
      close = _match_brace(text, i)
      if close >= 0:
        return text[i + 1:close]
    elif i > name_end:  # "\boxed 5": one token
      m = re.match(r"[^\s$]+", text[i:i + MAX_ANSWER_CHARS])
      if m:
        return m.group()
    end = start
  return None


_ANSWER_PHRASE = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_WORDISH = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{4,}")


def _is_formula(text: str) -> bool:
  """No run of 4+ letters outside LaTeX commands and \\text{} (those are prose, or words the parser refuses)."""
  stripped = re.sub(r"\\(?:text|mathrm|textbf|mbox|operatorname|begin|end)\s*\{[^{}]*\}", "", text)
  return not _WORDISH.search(stripped)


def _after_phrase(text: str) -> str | None:
  """What follows the last "answer is" / "answer:": to the end of the line or sentence, math part only."""
  last = None
  tail_start = max(0, len(text) - 20_000)  # the phrase of a final answer sits near the end
  for last in _ANSWER_PHRASE.finditer(text, tail_start):
    pass
  if last is None:
    return None
  rest = text[last.end():last.end() + 300].split("\n", 1)[0].strip()
  rest = re.split(r"\.(?:\s|$)", rest, maxsplit=1)[0].strip()
  inline = re.findall(r"\$([^$]+)\$", rest)
  if inline:
    return inline[-1]
  if rest and not _is_formula(rest):
    numbers = _NUMBER.findall(rest)
    return numbers[0] if numbers else None
  return rest or None


def extract_answer(completion: str) -> str | None:
  """The final answer in a model completion (see the module docstring for the order), or None."""
  close = completion.rfind("</think>")
  region = completion[close + len("</think>"):] if close >= 0 else completion
  if not region.strip():
    region = completion
  tag = _text.last_tag_content(region, "answer")
  if tag is not None:
    boxed = last_boxed(tag)
    if boxed is not None:
      return boxed
    inner = _answer_from_text(tag)
    return inner if inner is not None else tag.strip()
  boxed = last_boxed(region)
  if boxed is not None:
    return boxed
  return _answer_from_text(region)


def _answer_from_text(region: str) -> str | None:
  """Answer markers in free text: `#### N`, "the answer is", a short formula, the last number."""
  hashes = region.rfind("####")
  if hashes >= 0:
    line = region[hashes + 4:hashes + 4 + 300].strip().split("\n", 1)[0].strip()
    if line:
      return line
  phrase = _after_phrase(region)
  if phrase is not None:
    return phrase
  stripped = region.strip()
  if stripped and len(stripped) <= 200 and "\n" not in stripped and _is_formula(stripped):
    return stripped
  numbers = _NUMBER.findall(region[-2000:])
  if numbers:
    return numbers[-1]
  if stripped and len(stripped.split()) <= 3 and "<" not in stripped:  # a word answer: "even", "no solution"
    return stripped
  return None


def extract_gold(gold: str) -> str | None:
  """The answer in a gold string: GSM8K `#### N`, a MATH solution's last `\\boxed{}`, or the string itself."""
  hashes = gold.rfind("####")
  if hashes >= 0:
    return gold[hashes + 4:].strip() or None
  boxed = last_boxed(gold)
  if boxed is not None:
    return boxed
  return gold.strip() or None


# ---------------------------------------------------------------------------------------------------------------
# Normalisation

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u00d7": "\\times ", "\u00f7": "\\div ", "\u00b7": "\\cdot ", "\u22c5": "\\cdot ",
    "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u221a": "\\sqrt", "\u2264": "\\le ", "\u2265": "\\ge ",
    "\u2260": "\\ne ", "\u222a": "\\cup ", "\u00b2": "^2", "\u00b3": "^3", "\u2208": "\\in ",
}
_UNITS = (
    "centimeters?|centimetres?|cm|millimeters?|mm|kilometers?|kilometres?|km|meters?|metres?|inch(?:es)?|in|"
    "feet|foot|ft|yards?|yd|miles?|mi|mph|km/h|m/s|units?|square units|sq units|degrees?|deg|radians?|rad|"
    "seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|dollars?|cents?|kg|kilograms?|"
    "grams?|lbs?|pounds?|ounces?|oz|liters?|litres?|ml|gallons?|cups?|percent|people|persons?|students?")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|textsf|mathrm|mbox|hbox|mathit)\s*\{([^{}]*)\}"
                       r"(\s*\^\s*\{?[23]\}?)?")
_UNIT_WORD = re.compile(rf"^\s*(?:sq\.?\s+|square\s+|cubic\s+)?(?:{_UNITS})\.?\s*$", re.IGNORECASE)
_TRAILING_UNIT = re.compile(
    rf"(?<=[\d}})\s])\s*(?:sq\.?\s+|square\s+|cubic\s+)?(?:{_UNITS})(?:\s*\^\s*\{{?[23]\}}?)?\.?\s*$", re.IGNORECASE)
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SPACED_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?: \d{3})+(?:\.\d+)?")


# One pass over backslash sequences, so that a matrix row break (two backslashes) is never read as `\[` or `\ `.
_DELIMITERS = re.compile(r"\\\\|\\[()\[\],;:! $]|\\(?:displaystyle|quad|qquad)(?![a-zA-Z])|[$~]")


def _delimiter_replacement(m: re.Match) -> str:
  """Keep row breaks; drop math delimiters, $ and thin spaces (1\\,000 is 1000); wide spaces become a space."""
  text = m.group()
  if text == "\\\\":
    return text
  return " " if text in ("\\ ", "~", "\\$") or text[1:] in ("quad", "qquad", "displaystyle") else ""


def _replace_text_commands(s: str) -> str:
  """\\text{cm} after a number goes (a unit); \\text{ or } becomes a comma; other \\text{...} is unwrapped."""
  for _ in range(10):  # nested \text{\text{...}}: innermost first, bounded
    def repl(m, s=s):
      content = m.group(1).strip()
      if content.lower() in ("or", "and", ","):
        return ","
      rest = s[:m.start()] + s[m.end():]
      if _UNIT_WORD.match(content) or (content.replace(" ", "").isalpha() and re.search(r"\d", rest)):
        return " "
      return " " + m.group(1) + " " + (m.group(2) or "")

    new = _TEXT_CMD.sub(repl, s, count=1)
    if new == s:
      return s
    s = new
  return s


def normalize(answer: str) -> tuple[str, bool]:
  """A canonical answer string and whether it carried a percent sign."""
  s = answer.strip()
  for _ in range(3):  # \boxed{\boxed{5}} and $\boxed{5}$
    s = s.strip().strip("$").strip()
    inner = last_boxed(s) if s.startswith(("\\boxed", "\\fbox")) else None
    if inner is None:
      break
    s = inner
  for k, v in _UNICODE.items():
    s = s.replace(k, v)
  s = _DELIMITERS.sub(_delimiter_replacement, s)
  s = re.sub(r"\\(?:left|right)\s*\.", "", s)
  s = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)[lr]?(?![a-zA-Z])", "", s)
  s = re.sub(r"\\[dtc]frac(?![a-zA-Z])", r"\\frac", s)
  s = re.sub(r"\\[dt]binom(?![a-zA-Z])", r"\\binom", s)
  s = re.sub(r"\\operatorname\s*\{([a-zA-Z]+)\}", r"\\\1", s)
  s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree|\u00b0", "", s)
  percent = "%" in s
  s = s.replace("\\%", "").replace("%", "")
  s = _replace_text_commands(s)
  s = re.sub(r"\s+", " ", s).strip()
  for _ in range(2):
    s = _TRAILING_UNIT.sub("", s).strip()
  if re.search(r"\bpercent\b", answer, re.IGNORECASE):
    percent = True
  s = re.sub(r"\s+(?:or|and)\s+", ",", s)
  s = re.sub(r"([)\]])\s*U\s*([(\[])", r"\1\\cup \2", s)
  s = re.sub(r"(\d)\{,\}(?=\d{3}(?!\d))", r"\1", s)
  s = s.rstrip(".,; ").lstrip("=").strip()
  if _THOUSANDS.fullmatch(s):
    s = s.replace(",", "")
  elif _SPACED_THOUSANDS.fullmatch(s):
    s = s.replace(" ", "")
  return s, percent


# ---------------------------------------------------------------------------------------------------------------
# The in-process fast path

_PLAIN = re.compile(r"([-+]?)(\d+(?:\.\d*)?|\.\d+)")
_SLASH = re.compile(r"([-+]?)(\d+)\s*/\s*(\d+)")
_LATEX_FRAC = re.compile(r"([-+]?)\\frac\s*\{\s*([-+]?)(\d+)\s*\}\s*\{\s*(\d+)\s*\}")
_ASSIGNMENT = re.compile(r"[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\s*=\s*([^=<>]+)")
_WORDS = re.compile(r"[a-zA-Z][a-zA-Z ]*")


def plain_number(s: str) -> tuple[Fraction, bool] | None:
  """A plain number (integer, decimal, a/b, \\frac{a}{b}) as an exact Fraction and whether it had a decimal point."""
  if len(s) > MAX_FAST_DIGITS:
    return None
  m = _PLAIN.fullmatch(s)
  if m:
    value = Fraction(m.group(2))
    return (-value if m.group(1) == "-" else value), "." in s
  m = _SLASH.fullmatch(s) or _LATEX_FRAC.fullmatch(s)
  if m:
    groups = m.groups()
    num, den = int(groups[-2]), int(groups[-1])
    if den == 0:
      return None
    sign = -1 if groups.count("-") % 2 else 1
    return Fraction(sign * num, den), False
  return None


def numbers_close(a: Fraction, b: Fraction, inexact: bool) -> bool:
  """Exact equality, or |a - b| <= 1e-6 * max(|a|, |b|) when a decimal was involved."""
  if not inexact:
    return a == b
  return abs(a - b) <= INEXACT_RTOL * max(abs(a), abs(b))


def _fast_judge(gold: str, gold_pct: bool, pred: str, pred_pct: bool) -> bool | None:
  """Decide cheap cases in-process; None when sympy is needed."""
  if gold.replace(" ", "") == pred.replace(" ", ""):
    return True
  if _WORDS.fullmatch(gold) and (re.search(r"[a-zA-Z]{3}|\s", gold) or gold.lower() == "no"):  # "odd", "Yes"
    return " ".join(gold.lower().split()) == " ".join(pred.lower().split())
  if "=" not in gold:  # "x = 5" answers the plain gold "5"
    m = _ASSIGNMENT.fullmatch(pred)
    if m:
      pred = m.group(1).strip()
  g, p = plain_number(gold), plain_number(pred)
  if g is None or p is None:
    return None
  inexact = g[1] or p[1]
  candidates = [(g[0], p[0])]
  if gold_pct:
    candidates.append((g[0] / 100, p[0]))
  if pred_pct:
    candidates.append((g[0], p[0] / 100))
  return any(numbers_close(a, b, inexact) for a, b in candidates)


# ---------------------------------------------------------------------------------------------------------------
# Scoring


def configure(num_workers: int | None = None, timeout: float | None = None, batch_timeout: float | None = None,
              cache_size: int | None = None):
  """Change the worker count, the per-item hard timeout (s), the per-call bound (s) or the cache size."""
  global _pool_instance
  with _lock:
    if num_workers is not None and num_workers != _config["num_workers"]:
      if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
      _config["num_workers"] = num_workers
      if _pool_instance is not None:
        _pool_instance.close()
        _pool_instance = None
    for key, value in (("timeout", timeout), ("batch_timeout", batch_timeout), ("cache_size", cache_size)):
      if value is not None:
        if value <= 0:
          raise ValueError(f"{key} must be positive, got {value}")
        _config[key] = value


def _get_pool() -> _pool.WorkerPool:
  global _pool_instance
  if _pool_instance is None:
    _pool_instance = _pool.WorkerPool(_config["num_workers"])
  return _pool_instance


def warmup():
  """Start the worker processes now (they take a second to import sympy) instead of on the first hard answer."""
  with _lock:
    _get_pool().start()


def shutdown():
  """Stop the worker processes (they restart on demand)."""
  global _pool_instance
  with _lock:
    if _pool_instance is not None:
      _pool_instance.close()
      _pool_instance = None


def clear_cache():
  """Forget cached verdicts (for benchmarks)."""
  with _lock:
    _cache.clear()


def counters() -> dict:
  """Cumulative outcome counts since import: fast, cached, pooled, no_answer, parse_failures, timeouts, errors."""
  with _lock:
    return dict(_counters)


def _status_counts(statuses: list[str]) -> dict:
  """Per-call stats from per-item statuses."""
  groups = {
      "no_answer": ("no_answer", "no_gold"),
      "parse_failures": ("parse_error", "gold_parse_error", "too_long"),
      "timeouts": ("timeout",),
      "errors": ("error", "worker_error"),
  }
  stats = {name: sum(s in members for s in statuses) for name, members in groups.items()}
  stats["gold_failures"] = sum(s in ("no_gold", "gold_parse_error") for s in statuses)
  return stats


def _prepare(text: str, gold: str):
  """Extract and normalise one pair: ("done", correct, status) or ("pool", key)."""
  gold_answer = extract_gold(gold)
  if gold_answer is None:
    return "done", False, "no_gold"
  answer = extract_answer(text)
  if answer is None or not answer.strip():
    return "done", False, "no_answer"
  if len(answer) > MAX_ANSWER_CHARS:
    return "done", False, "too_long"
  g, g_pct = normalize(gold_answer)
  p, p_pct = normalize(answer)
  if not p:
    return "done", False, "no_answer"
  verdict = _fast_judge(g, g_pct, p, p_pct)
  if verdict is not None:
    return "done", verdict, "fast"
  return "pool", (g, p, g_pct, p_pct)


def score(completions: list[str], golds: list[str], prefill: str | list[str] = "") -> tuple[list[float], dict]:
  """Rewards 1.0 / 0.0 per completion and the call's stats (counts of no_answer, parse_failures, timeouts, errors,
  gold_failures, and how items were decided: fast / cached / pooled)."""
  texts = _text.with_prefill(completions, prefill)
  if len(golds) != len(texts):
    raise ValueError(f"{len(texts)} completions but {len(golds)} golds")
  correct = [False] * len(texts)
  statuses = ["ok"] * len(texts)
  how = collections.Counter()
  waiting: dict[tuple, list[int]] = collections.defaultdict(list)
  with _lock:
    for i, (text, gold) in enumerate(zip(texts, golds)):
      prepared = _prepare(str(text), str(gold))
      if prepared[0] == "done":
        _, correct[i], status = prepared
        statuses[i] = "ok" if status == "fast" else status
        how["fast" if status == "fast" else "unparsed"] += 1
      elif prepared[1] in _cache:
        _cache.move_to_end(prepared[1])
        correct[i], statuses[i] = _cache[prepared[1]]
        how["cached"] += 1
      else:
        waiting[prepared[1]].append(i)
    keys = list(waiting)
    if keys:
      how["pooled"] += sum(len(v) for v in waiting.values())
      try:
        results = _get_pool().run("math", [list(k) for k in keys], timeout=_config["timeout"],
                                  batch_timeout=_config["batch_timeout"])
      except OSError as e:  # workers cannot be started (no processes or file descriptors left): score 0, count it
        _log.warning("math reward workers unavailable: %s", e)
        results = [(None, "worker_error")] * len(keys)
      for key, (value, status) in zip(keys, results):
        verdict = bool(value) if status in _CACHEABLE else False
        if status in _CACHEABLE:
          _cache[key] = (verdict, status)
          if len(_cache) > _config["cache_size"]:
            _cache.popitem(last=False)
        for i in waiting[key]:
          correct[i], statuses[i] = verdict, status
    stats = _status_counts(statuses)
    stats.update(how)
    _counters.update(stats)
  return [1.0 if c else 0.0 for c in correct], stats


def accuracy_reward(completions: list[str], golds: list[str], prefill: str | list[str] = "") -> list[float]:
  """1.0 where the completion's final answer is mathematically equivalent to the gold answer, else 0.0."""
  return score(completions, golds, prefill)[0]


def verify(gold: str, prediction: str) -> bool:
  """Whether `prediction` (a bare answer or a whole completion) answers `gold`."""
  rewards, _ = score([prediction], [gold])
  return rewards[0] == 1.0
