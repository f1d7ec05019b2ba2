"""Math accuracy: answer extraction, normalisation and equivalence checking with sympy, safe on hostile output.

    from r1jax.rewards import math
    math.verify("\\frac{1}{2}", "... so the answer is \\boxed{0.5}.")         # True
    math.accuracy_reward(completions, golds, prefill="<think>")              # [1.0, 0.0, ...]
    rewards, stats = math.score(completions, golds)                          # stats: timeouts, parse failures, ...

The pipeline for one (completion, gold) pair:

  1. Extraction (bounded string scans over the last 20k characters). From the completion, before its first end-of-turn
     token (`<|im_end|>`, `<|eot_id|>`, ...; the template's other tokens read as spaces; in OpenAI's Harmony format,
     the text of its final-channel messages before `<|return|>`, none when it has none: its analysis channel is its
     reasoning) and after the last `</think>`:
     the last `<answer>...</answer>` (its boxes if it has any, else its whole content), else the last `\\boxed{...}` /
     `\\fbox{...}` (a run of boxes joined by commas, "and", "or" or only punctuation is one list answer, a name written
     before a box of the run staying with it: "y_1 = a, y_2 = b"), unless an answer statement with a value follows the
     last box (then that statement), else GSM8K `#### N` (unless an answer statement with a value follows its line:
     "#### 42\nWait, the answer is 41." answers 41; a line of prose gives its value: "#### 1,234 apples." answers
     1,234), else what follows "the (final) answer is" / "answer:" / "the answer is:" / "final:" (also "r\u00e9ponse",
     "respuesta", "Antwort", "\u7b54\u6848"; a run of math spans there is one list: "$12$ and $13$"; an exclamation
     mark after a plain number ending it is punctuation: "The answer is 29!"), else the whole text when it is a short
     formula (work ending in a conclusion is the equation of the two: "48 + 24, so 72" is 48 + 24 = 72; letters
     between operators are products, not words: "ac + ad + bc + bd"), else the last
     math span or standalone value of the prose: a
     number (with a trailing %), a/b or \\frac{a}{b}, also when glued to another script ("13\u53ea") or written with a
     decimal comma ("2,74"), but not one negated or hedged in its clause ("not 5", "4 or 5", "not $5$", "\u4e0d\u662f5";
     a negation that another number took before the text restates or gives a result no longer bears on the value:
     "not 10, it's 12", "21, minus 15, equals 6"), and
     nothing when the text stops inside an unclosed `$` (a completion cut off mid-formula has not answered) or its last
     line holds no value and announces work still to do ("Work: 42.\nNow solve the remaining steps."). A text that
     ends with a JSON object with an "answer" key answers with that key's value ('{"answer": 6, "confidence": 0.9}'). A
     completion that is the gold's text itself answers it before any extraction ("odd $n$" for "odd $n$").
     From the gold: `#### N` (GSM8K), else its boxes (MATH solutions), else the whole string without its `$`
     (an answer column), or what follows "the answer is" when the gold is a sentence.
  2. Normalisation (string rewriting): `$`, `\\left`/`\\right`, spacing commands, `\\dfrac`/`\\tfrac`, `\\text{}` and
     units (also inside lists: "{35 cm, 4}"), a label after the value ("17\\text{ apples}", unless a word such as
     "hundred", "or", "not" qualifies it), degrees (inside the argument of a trigonometric function they become radians:
     \\sin(90^\\circ - x) is \\cos x), percent (remembered: see the policies below), dollars, thousands separators,
     "or"/"and" between answers (and \\wedge / \\land between conditions), the sides of an equation that hold a limit,
     sum, product or integral (the computation, not the answer), trailing punctuation; \\overrightarrow is written \\vec
     (one vector arrow); a run of superscript characters is one exponent (10\u207b\u2078 is 10^{-8}); fullwidth forms
     are ASCII (\uff08x\uff0b1\uff09 is (x+1)); a function name in capitals before "(" is the function (SQRT(3), LN(2));
     a derivative named before "=" is a label of its own (f'(x) = 2x: the primes keep it apart from f(x)).
  3. A fast path in this process: identical strings, plain numbers (exact fractions.Fraction arithmetic), `x = 5`
     against a plain number, and word answers ("odd", "Yes") compared as text.
  4. Everything else goes to the worker pool (r1jax.rewards._pool), which parses with r1jax's own parser (never
     eval / sympify) and compares with sympy under a hard per-item time limit (r1jax.rewards._equiv). Results are
     cached by (gold, answer) and duplicates within a batch are judged once.

A timeout, a parse failure or a crashed worker gives reward 0 and is counted in the returned stats (and in the
cumulative `counters()`); nothing raises into the training loop. Slow answers time out on their own: the pool
gives every item a short first budget before any item gets its full one, so the per-call cap only falls on items
that were already slow (counted as `batch_cap`), and a timed-out answer is cached like any verdict.

Predictions are untrusted: a false positive is the worst outcome, so when in doubt the answer is wrong. Only the text
after `</think>` counts (a `<think>` that never closes holds no answer), an unclosed last box is no answer, an
`<answer>` tag's content is judged whole (never a number picked out of it), words other than known units and labels make
a prediction fail to parse ("not 5", "5 thousand"), and a relation is an answer only when it is true. The last answer
statement must be one: a statement whose label disowns or hedges it ("Wrong answer: 42", "This is not the final answer:
42", "Candidate answer: \\boxed{42}", "Example: \\boxed{42}", "\u9519\u8bef\u7b54\u6848\uff1a42"), a box its own
sentence doubts ("\\boxed{42} but I will reconsider"), a label with nothing after it ("\\boxed{42};
final answer:"), a value followed by a connective and more math ("$7$ because $42$", "3/4 so 4") or by a parenthesised
hedge with another value ("42 (maybe 5)"; a parenthesised reason, "42 (because 6 x 7 = 42)", is no second value), an
`<answer>` tag that never closes or sits inside an unclosed box, and a box juxtaposed to a value before it
("x=0\\boxed{42}") all answer nothing, and no earlier value stands in for them; an answer statement that a box later in
its paragraph contradicts, with no word of correction between them ("Final Answer: 12. Therefore \\boxed{14}."), leaves
no answer either, like two `<answer>` tags that disagree and two answer statements that disagree ("Answer: 5\\nAnswer:
6"). Two backslashes right after a digit are LaTeX's line break, not an escaped command
("Final answer: 7 \\\\boxed{42}" never answers 42); a number that prose says a text contains, mentions, discusses or
says is quoted, not stated, and one its sentence goes on to doubt ("42, but I am unsure") is not stated either; a
\\text{} of several words after a value is prose, not a label.

Policies for the answers other graders read differently (each a decision, tested in tests/rewards):
  * The last statement of the answer wins: "\\boxed{255} ... The final answer is $10,455$" answers 10455, and
    "\\boxed{4}. Actually the final answer is 5" answers 5; a later "the answer is correct" or "the answer is not 8"
    holds no value and leaves the box.
  * Inline math is LaTeX's: a single line break inside `$...$` or `\\(...\\)` is a space ("Answer $\\n 9 \\n$"
    answers 9, where Math-Verify's extraction refuses spans across lines); a blank line ends it.
  * Several solutions: assignments whose names repeat in a cycle ("p=5, q=2; p=7, q=2", also joined by "and")
    are one solution per cycle, so they answer "(5, 2), (7, 2)"; a labelled run of boxes is compared with its names
    (swapped labels are wrong), an unlabelled run as the unordered list of its values.
  * A named quantity given by a number answers that number: AB = 4, |AB| = 1, V_1 : V_2 = 11 : 21,
    \\frac{NO}{BO} = ... (products, ratios and absolute values of up to four points or variables; a coefficient,
    as in 2AB = 5 or x/2 = 5, makes it an equation, not a name). A compound name of letters only shown with its
    arithmetic answers its last side when every numeric side agrees with it exactly: "m+n = 256+37 = 293" answers
    293; "m+n = 293" alone stays an equation, and "m+n = 256+37 = 294", elided terms ("256 + ... = 293"), a letter
    in a later side or a number in the name (2m + n) answer nothing.
  * An integer colon two digits that ends an answer (7:32, 12:00) may be a time of day: it is compared as written,
    never as the ratio 7/32 (3:4, 12:5 and x:y are ratios, numbers).
  * A sum or product with integer bounds is computed (at most 1000 terms, each bounded like any power); with
    symbolic bounds it equals only what has its form (the factors of its term in any order).
  * A system (cases, aligned) is the unordered set of its equations; a bound on |x| is the set of x it allows
    (1 <= |z| <= 2 is [-2, -1] U [1, 2]); a name such as f(x) may be the variable of an inequality (0 < f(x) < 1
    answers (0, 1)); a tuple written without its parentheses in its order answers it ({1,3} renders as 1, 3).
  * Percent: the gold's percent sign names the unit the answer is asked in, so 25% is answered by 25%, 25 and 0.25;
    a prediction's percent sign is part of its value unless the gold is a percent too (5% is 0.05: it does not
    answer 5, and 4 4/9% does not answer 40/9).
  * Mixed numbers: a whole answer "2 1/2" (also "-4 4/9", "1 000 4/9") is 5/2, as LaTeX's 2\\frac{1}{2} is; never
    the product 1.
  * Units and words after a number: known unit words and abbreviations (also glued, 12cm, two letters or more)
    and plain words (5 apples) go; words that change the value (thousand, factorial, squared, minus) refuse it.
    When both the gold and the answer write units or labels (in \\text{} or as known unit words, 2 cm, 2cm) and
    they differ (3.5 \\text{L} for 3.5 \\text{gal}, 17 oranges for 17 apples, 2 mm for 2 cm), the answer is wrong;
    spellings of one unit (cm, centimeters) agree. A gold that glues its unit (10cm) asks for it: 10 cm answers it,
    a bare 10 does not. A value read out of prose keeps the known unit written after it ("The rope is 5 feet long"
    does not answer 5 meters). A one-letter abbreviation (3 m, 12 s) is a unit only where the other side names that
    unit (3 m answers 3 meters; elsewhere 3 m is the product 3m).
  * A word answer is compared as text without a leading article: "derivative" answers "the derivative".
  * A gold that is a true numeric equation (2 + 2 = 4, 1 = 1) asks for its value: 4 (or 1) answers it, as a true
    computation in an answer gives its value. (pie-framework's fixtures count the equation and the number apart.)
  * Spaced digits in prose ("... 1 2 ...") are no value: a number that only spaces separate from the number before
    it is not read as the answer of a text.
  * A value after a status label ("Work in progress: 10", "Draft answer: 10") or inside a function call
    (exec('x=1'), print(5), sqrt(8) read for 8) is no answer; the text is only read.
  * Plain calculator notation is a formula, not prose: sech**6(x), asin^2(x), floor(x) + 1, Abs(x), theta. A
    number of a prose text that is an exponent or a term of a formula (the 6 of sech(x)**6, the 3 of "2x+3"), a
    coefficient glued to a one-letter variable ("we have 4x on the left") or the number of a step ("Step 4:") is
    no value of the text; a prose answer statement that goes on after a semicolon with another value ("41 apples;
    42 is wrong") answers nothing.
  * Dots between groups of three digits are thousands separators when there are two or more groups (1.000.000);
    one group (1.000) stays a decimal.
  * Spaces that group digits in threes on both sides of the decimal point, as the SI writes numbers, leave one
    number: 12 345.678 9 is 12345.6789, 1,234 5 is 1.2345 (a whole answer; in prose spaced digits stay no value).
  * Decimal commas: a comma between digits is a thousands separator when exactly three digits follow (not after a
    lone 0), else a decimal comma, in a whole answer and in prose alike; on a side of an equation, thousands
    separators go when they are the side's only commas (y = 2,500 is y = 2500; a side holding a tuple keeps them).
    LaTeX's braced comma ({,}) reads the same way (3{,}5 is 3.5, 1{,}000 is 1000), except in the mantissa of
    scientific notation, where it is decimal (1{,}357 \\times 10^3 is 1357).

Decimals (the one tolerance, the same in both directions): two numbers are equal when they are equal, or when one
has no finite decimal expansion (pi, sqrt(2), 8/3) and the other is a decimal that agrees with it to 1e-6
(relative; absolute below 1), or that is it rounded or truncated to the digits shown with at least
MIN_SIGNIFICANT_DIGITS (4) significant digits: 125.663 and 125.664 answer 40 pi, 2.6667 answers 8/3, 3.14 and 0.333
do not, nor does 125.665. This is the convention of MARIO_EVAL's and Qwen2.5-Math's graders (Math-Verify rounds to
6 places); 4 digits is where a decimal stops being a guess. A number with a finite expansion is never approximated:
1000001.0 is not 1000000, 4.9999999 is not 5, 0.0666668 is not 0.066666793. Decimals inside expressions compare
the same way, coefficient by coefficient (x + 1.414i answers x + sqrt(2) i).

Why r1jax's own parser and not math-verify as the backend: measured with `python -m benchmarks.rewards --backends`
(r1jax's extraction, normalisation and exact fast path in front of both), math-verify's LaTeX parsing and verify()
agree with fewer of the cases from other projects' test files (91.1% against 94.2% of the 448 held-out cases,
95.7% against 98.5% of the 395 outside ones, 96.3% against 98.2% of the 163 development ones), reward 11 of 138
wrong adversarial completions (false equations kept as answers, boxes nested in boxes, tiny perturbations) where the
parser here rewards none, and take ~30x longer per pair; on the held-out cases both reward a few wrong answers (3
and 4). Math-verify's own extraction also runs sympy's `parse_expr` (an eval) on model text. The parser here
evaluates nothing and bounds every size.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import re
import threading
import unicodedata
from fractions import Fraction

from r1jax.rewards import _pool, _text

MAX_ANSWER_CHARS = 1000  # extracted answers longer than this are not parsed (parse failure)
MAX_TAIL_CHARS = 20_000  # extraction reads at most this many characters from the end of a completion
MAX_BOXES = 8  # boxes looked at from the end (a run of boxes joined by "and" / commas is one answer)
MAX_FAST_DIGITS = 60  # plain numbers up to this many digits are compared in-process
INEXACT_RTOL = Fraction(1, 10**6)
MIN_SIGNIFICANT_DIGITS = 4  # a decimal approximates a number without a finite expansion from this many digits on
MAX_ROUNDED_DECIMALS = 60

# Tunables (see configure()).
_config = {
    "num_workers": max(1, min(4, os.cpu_count() or 1)),
    "timeout": 3.0,  # seconds per item (hard: the worker is killed)
    "batch_timeout": 60.0,  # seconds per call, whatever the batch holds
    "first_timeout": 0.25,  # seconds per item in round one (every item gets it before any gets more)
    "cache_size": 100_000,
}
_lock = threading.RLock()
_cache: collections.OrderedDict = collections.OrderedDict()  # (gold, answer, %, %) -> (verdict, status)
_slow: collections.OrderedDict = collections.OrderedDict()  # keys the per-call cap cut short once
_pool_instance: _pool.WorkerPool | None = None
_counters: collections.Counter = collections.Counter()
_log = logging.getLogger(__name__)
_CACHEABLE = ("ok", "parse_error", "gold_parse_error", "timeout")  # an item over its full limit stays over it


# ---------------------------------------------------------------------------------------------------------------
# Extraction: string scans over at most the last MAX_TAIL_CHARS characters, each bounded, so a 10 MB completion
# costs what a 20 kB one does.


_BRACKET_EVENTS = {"{": re.compile(r"\\.|[{}]", re.DOTALL), "(": re.compile(r"\\.|[()]", re.DOTALL)}
_BOX_NAMES = ("\\boxed", "\\fbox")


def _match_brace(text: str, open_index: int, limit: int = MAX_ANSWER_CHARS + 2) -> int:
  """Index of the '}' (or ')') closing the '{' (or '(') at open_index (escaped ones skipped), or -1; looks at most
  `limit` characters ahead, so a huge unclosed group costs O(limit), not O(len(text))."""
  opening = text[open_index]
  closing = "}" if opening == "{" else ")"
  depth = 0
  for m in _BRACKET_EVENTS[opening].finditer(text, open_index, min(len(text), open_index + limit)):
    c = m.group()
    if c == opening:
      depth += 1
    elif c == closing:
      depth -= 1
      if depth == 0:
        return m.start()
  return -1


def _boxes(text: str, max_boxes: int = MAX_BOXES) -> list[tuple[int, int, str | None]]:
  """The last `max_boxes` `\\boxed{...}` / `\\fbox{...}` / `\\boxed 5` in text order as (start, end, content);
  content None for a box that does not close (or closes too far away to be an answer)."""
  found = []
  end = len(text)
  while len(found) < max_boxes:
    start = max(text.rfind(name, 0, end) for name in _BOX_NAMES)
    if start < 0:
      break
    name_end = start + (6 if text.startswith("\\boxed", start) else 5)
    end = start
    if name_end < len(text) and text[name_end].isalpha():  # \boxedfoo is another command
      continue
    first = start
    while first > 0 and text[first - 1] == "\\":
      first -= 1
    if (start - first) % 2:  # "7 \\boxed{42}": a line break, then the word "boxed", no box
      continue
    i = name_end
    while i < len(text) and text[i] == " ":
      i += 1
    content, close = None, i
    if i < len(text) and text[i] == "{":
      close = _match_brace(text, i)
      if close >= 0:
        content, close = text[i + 1:close], close + 1
    elif i > name_end:  # "\boxed 5": one token
      m = re.match(r"[^\s$]+", text[i:i + MAX_ANSWER_CHARS])
      if m:
        content, close = m.group(), i + m.end()
    found.append((start, close, content))
  return found[::-1]


# Between two boxes of one answer: "and" / "or" (after up to four words), or only punctuation and spaces.
_JOINER = re.compile(r"[\s,;.]*(?:(?:[A-Za-z()]+\s+){0,4}(?:and|or)\b[\s,;]*)?|[^\w]*", re.IGNORECASE)
_JOINER_NOISE = re.compile(r"\\[()\[\]]|\$|\\q?quad|\\[,;:! ]|\\text\s*\{([^{}]*)\}")


# A name written right before a box of a run, in the same math: "y_1 = \\boxed{...}", "f(x) = \\boxed{...}".
_BOX_LABEL = re.compile(r"(?<![\w\\}])([A-Za-z](?:_\{?[A-Za-z0-9]{1,8}\}?)?(?:\([a-z]\))?)\s*=\s*$")


def _box_label(before: str) -> tuple[str | None, str]:
  """The label `NAME =` that ends `before` (math delimiters and spacing ignored) and what precedes it."""
  cleaned = _JOINER_NOISE.sub(r" \1 ", before)
  m = _BOX_LABEL.search(cleaned)
  return (m.group(1), cleaned[:m.start()]) if m else (None, cleaned)


def boxed_answer(text: str) -> str | None:
  """The answer in the last box, or the boxes of the last run joined by commas, "and", "or" (`\\boxed{1} and
  \\boxed{2}` answers "1, 2"); None when there is no box or the last one does not close (an unfinished answer
  never falls back to an earlier one). In a run of two or more boxes a name written before a box stays with its
  value (`y_1 = \\boxed{a}` and `y_2 = \\boxed{b}` answer "y_1 = a, y_2 = b"): the names say which value is which."""
  boxes = _boxes(text)
  if not boxes or boxes[-1][2] is None:
    return None
  run = [boxes[-1][2]]
  labels = []
  for (_, prev_end, prev), (start, _, _) in zip(boxes[-2::-1], boxes[:0:-1]):
    gap = text[prev_end:start]
    label, rest = _box_label(gap)
    if prev is None or len(gap) > 80 or "\\\\" in gap or not _JOINER.fullmatch(rest):
      break  # a line break (two backslashes) between two boxes ends the run: the last box is the answer
    labels.append(label)
    run.append(prev)
  if len(run) == 1:
    return run[0]
  start = boxes[-len(run)][0]
  labels.append(_box_label(text[max(0, start - 40):start])[0])
  return ", ".join(value if label is None else f"{label} = {value}" for label, value in zip(labels[::-1], run[::-1]))


def last_boxed(text: str) -> str | None:
  """Content of the last `\\boxed{...}` or `\\fbox{...}` (also `\\boxed 5`); None when it is missing or unclosed."""
  boxes = _boxes(text, max_boxes=1)
  return boxes[-1][2] if boxes else None


_DOUBLED_COMMAND = re.compile(r"(?<!\\)\\\\(?=(?:boxed|fbox|frac|dfrac|tfrac|sqrt|le|leq|ge|geq|lt|gt|ne|neq|in|cup|"
                              r"text|left|right|pi|infty|cdot|times|pm|mathrm|approx)(?![a-zA-Z]))")


def _undouble(text: str, gold: bool = False) -> str:
  """`\\\\boxed{5}` (a string escaped twice) read as `\\boxed{5}`; a matrix row break before a command name
  is not touched when a space separates them, as it does in practice. Right after a digit (`7 \\\\boxed{42}`,
  `0\\\\pi+42`) two backslashes are LaTeX's line break, which ends the value before it, and three
  (`\\\\\\boxed`) are a line break and a real command: neither is an escaped command. A trusted gold keeps the
  escaped reading after a digit too (`-2 \\\\le x`)."""
  if "\\\\" not in text:
    return text
  def replacement(m: re.Match) -> str:
    return m.group() if not gold and _LINE_BREAK_AFTER.search(text[max(0, m.start() - 2):m.start()]) else "\\"

  return _DOUBLED_COMMAND.sub(replacement, text)


_LINE_BREAK_AFTER = re.compile(r"\d ?$")  # what ends the text before two backslashes read as a line break


_BARE_BOX = re.compile(r"\\box(?=\s*\{)")


# A chat template's special tokens: "<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|im_start|>", ...
_CHAT_TOKEN = re.compile(r"<\|[A-Za-z_]{1,30}\|>")
_END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>", "<|end|>")


# OpenAI's Harmony format (gpt-oss): each message is "<|start|>{role}<|channel|>{channel}...<|message|>{text}<|end|>";
# "<|end|>" ends a message, "<|return|>" or "<|call|>" ends the turn. The "analysis" channel is the model's reasoning,
# "final" the reply to the user. The header between the channel and <|message|> is bounded (a recipient, a
# "<|constrain|>json"), so a scan never runs past 200 characters per header.
_HARMONY_HEADER = re.compile(r"<\|channel\|>\s*([A-Za-z_]{1,30})(?:(?!<\|(?:message|end|start|channel)\|>).){0,200}?"
                             r"<\|message\|>", re.DOTALL)
_HARMONY_MESSAGE_END = re.compile(r"<\|(?:end|start|channel|return|call)\|>")
_HARMONY_TURN_END = ("<|return|>", "<|call|>")


def _harmony_final_text(completion: str) -> str | None:
  """The text of a Harmony completion's "final"-channel messages (joined by blank lines), before its turn ends; None
  when it has none: its reasoning ("analysis") and tool messages ("commentary") are not its answer, as a <think> block
  is not, and a completion that never reaches a final message has not answered. Only the last MAX_TAIL_CHARS
  characters before the turn's end are scanned, as for any completion."""
  ends = [i for i in (completion.find(t) for t in _HARMONY_TURN_END) if i >= 0]
  if ends:
    completion = completion[:min(ends)]
  completion = completion[-MAX_TAIL_CHARS:]
  finals = []
  for header in _HARMONY_HEADER.finditer(completion):
    if header.group(1) != "final":
      continue
    end = _HARMONY_MESSAGE_END.search(completion, header.end())
    finals.append(completion[header.end():end.start() if end else len(completion)])
  return "\n\n".join(finals) if finals else None


def _without_chat_tokens(completion: str) -> str | None:
  """A completion as its writer ended it: the text before its first end-of-turn token ("#### 72<|im_end|>" ends at
  72; text after the turn ends is not the completion's), with the template's other special tokens read as spaces. A
  Harmony completion (one with "<|channel|>") is the text of its final-channel messages, None when it has none."""
  if "<|channel|>" in completion:
    completion = _harmony_final_text(completion)
    if completion is None:
      return None
  ends = [i for i in (completion.find(t) for t in _END_OF_TURN) if i >= 0]
  if ends:
    completion = completion[:min(ends)]
  return _CHAT_TOKEN.sub(" ", completion) if "<|" in completion else completion


def answer_region(completion: str) -> str | None:
  """The part of a completion that may hold its final answer: the text after the last `</think>` (or all of it when
  there are no think tags) and before an end-of-turn token, at most its last MAX_TAIL_CHARS characters. None when the
  reasoning never closes (a `<think>` without `</think>`) or nothing follows it: an answer written only inside the
  reasoning is no answer."""
  completion = _without_chat_tokens(completion)
  if completion is None:
    return None
  close = completion.rfind("</think>")
  if close >= 0:
    region = completion[close + len("</think>"):]
  elif "<think>" in completion:
    return None
  else:
    region = completion
  region = _BARE_BOX.sub(r"\\boxed", _undouble(region[-MAX_TAIL_CHARS:]))  # "\box{39}": a box missing its "ed"
  return region if region.strip() else None


# "The answer is", "Answer:", "The answer is:" (MetaMathQA's form), "Final:" and the same marker in a few other
# languages (French, Spanish, German, Chinese).
_ANSWER_PHRASE = re.compile(r"(?:final answer|answer|(?:correct )?(?:option|choice)|r\u00e9ponse|respuesta|antwort)\s*"
                            r"(?:(?:is|est|es|ist)(?:\s*:)?|:)\s*|final\s*:\s*|"
                            r"\u7b54\u6848\s*(?:\u662f|:|\uff1a)\s*", re.IGNORECASE)
# $$...$$, $...$ (an escaped \\$ inside is a dollar sign, not a delimiter), \\(...\\), \\[...\\].
# A single line break inside a span is a space, as in LaTeX ("Answer $\n 9\n$" answers 9); a blank line ends it.
_NO_PARAGRAPH = r"(?!\n[ \t]*\n)"
_MATH_SPAN = re.compile(rf"(?<!\\)\$\$((?:{_NO_PARAGRAPH}.){{1,1000}}?)(?<!\\)\$\$|"
                        rf"(?<!\\)\$((?:{_NO_PARAGRAPH}[^$\\]|\\.){{1,1000}}?)\$|"
                        rf"\\\(((?:{_NO_PARAGRAPH}.){{1,1000}}?)\\\)|"
                        rf"\\\[((?:{_NO_PARAGRAPH}.){{1,1000}}?)\\\]", re.DOTALL)
# A value standing on its own in prose: a number (thousands commas, decimals, a trailing %), a fraction a/b or
# \frac{a}{b}. Only ASCII letters and digits glued to it make it part of a word ("AZYUK2A"); a number glued to
# other scripts is still a number ("13\u53ea" in Chinese prose). A comma between digits is a thousands separator
# when three digits follow it (not after a lone 0), else a decimal comma ("2,74 $" is 2.74, as in French prose),
# unless brackets enclose it ("(12,5)" is a pair).
_STANDALONE_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,\\/])(?:-?\\[dt]?frac\{-?\d{1,20}\}\{\d{1,20}\}|-?(?:\d{1,20} )?\d{1,20}/\d{1,20}(?![\d/]|[.,]\d)|"
    r"(?<![(\[])-?(?:\d{1,20},(?:\d{1,2}|\d{4,20})|0,\d{3})(?:\s?%)?(?![\d,.)\]]|[A-Za-z0-9_]\d)|"
    r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?%)?(?![A-Za-z0-9_,]?\d))|(?<![A-Za-z0-9_.\\])-?\.\d+")
# Words that negate or hedge the number after them in its clause ("not 5", "4 or 5"), in English and in the other
# languages whose answer marker is read: "n'est pas 5", "nicht 5", "\u4e0d\u662f5", "4\u62165".
_NEGATION = re.compile(r"\b(?:not|no|never|minus|negative|isn't|aren't|n't|without|except|either|or|pas|non|ni|"
                       r"nicht|kein\w*|oder|nunca|jamais|ou)\b|[\u4e0d\u6ca1\u975e\u5426\u672a\u6216]", re.IGNORECASE)
# Words after a number that change its value: "5 thousand", "5 factorial", "5 squared".
_MAGNITUDE = re.compile(r"\s*(?:thousand|million|billion|trillion|hundred|dozen|lakh|crore|factorial|squared|cubed|"
                        r"times|to the|over|plus|minus|divided|multiplied|raised|root)", re.IGNORECASE)
# A comparison right before a number: the number is a bound or the operand of a difference ("more than 12",
# "3 more than 12", "at least 12"), not the value stated.
_COMPARED = re.compile(r"\b(?:(?:more|less|fewer|greater|larger|smaller|bigger|higher|lower)\s+than|"
                       r"at\s+(?:least|most))\s*$", re.IGNORECASE)
# A number that only spaces separate from the number before it ("... 1 2 ..."): spaced digits, not a value.
_SPACED_DIGITS = re.compile(r"\d[ \t]+$")
# What ends the text before a number that is an operand of a formula, not a value: an exponent (x^6, x**6, ^{6};
# a ** after a space opens markdown bold: "is **3**"), or a term after +, -, *, / whose other operand is a letter,
# digit or closing bracket (f(x) + 1, 2x - 3).
_OPERAND = re.compile(r"(?:\^|[A-Za-z0-9)\]}]\*\*)\s*\{?\s*-?$|[A-Za-z0-9)\]}]\s*[-+*/]\s*-?$")
# A word of prose and a space before "-7": the minus is the number's sign ("Result is -7", "temperature -7 degrees"),
# not a subtraction from a variable ("x -7") or a number ("3 -7"), which stay terms of a formula.
_PROSE_BEFORE_SIGN = re.compile(r"(?<![\\A-Za-z])([A-Za-z]{4,}|is|was|are|be|to|of|at|by|as|get|got|now)[ \t]+$",
                                re.IGNORECASE)
_PERCENT_WORD = re.compile(r"\s*percent(?:age)?\b", re.IGNORECASE)  # "33.5 percent(age)" is 33.5%
# Prose: a run of 4+ ASCII letters outside commands, or letters of another script (Greek and letterlike math
# symbols such as \u211d excepted).
_WORDISH = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{4,}|[^\W\d_a-zA-Z\u0370-\u03ff\u2100-\u214f\u2070-\u209f\u00b2\u00b3\u00b9]")


_MATH_WORDS = frozenset("and or sin cos tan cot sec csc log ln exp lim max min gcd lcm mod deg abs sqrt pi inf".split())
# Function names of 4+ letters that the parser reads without a backslash, when a "(" follows, also with a power
# written between the name and its argument as calculator notation has it: 1/sqrt(x), asin(1/2), floor(x) + 1,
# sech**6(x), asin^2(x). (tests/rewards checks that every such name of the parser is here.)
PLAIN_FUNCTION_NAMES = (
    "sqrt", "cbrt", "floor", "ceil", "ceiling", "round", "factorial", "binom",
    "arcsin", "arccos", "arctan", "arccot", "arcsec", "arccsc", "asin", "acos", "atan", "acot", "asec", "acsc",
    "sinh", "cosh", "tanh", "sech", "csch", "coth", "asinh", "acosh", "atanh", "asech", "acsch", "acoth",
    "arcsinh", "arccosh", "arctanh")
_PLAIN_FUNCTION_CALL = re.compile(
    r"(?<![\\a-zA-Z])(?:" + "|".join(sorted(PLAIN_FUNCTION_NAMES, key=len, reverse=True))
    + r")(?:\s*(?:\*\*|\^)\s*(?:\{\s*-?\d{1,3}\s*\}|-?\d{1,3}))?(?=\s*\()")


# A run of 2-3 letters between operators is a product of variables, not a word: each of its sides, spaces aside, is an
# arithmetic or relation sign, a bracket or an end of the text, and on its left also a coefficient ("ac + ad + bc",
# "2ab - 3cd"). Words of prose stand next to other words or numbers ("to get 5").
_SHORT_RUN = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,3}(?![A-Za-z])")
_TERM_LEFT, _TERM_RIGHT = "-+*/^=<>(0123456789", "-+*/^=<>)"


def _is_term(text: str, start: int, end: int) -> bool:
  """Whether the letters text[start:end] stand between operators, spaces aside (up to 20 looked at: more is layout,
  not a formula), as a product of variables does."""
  before, after = text[max(0, start - 20):start].rstrip(), text[end:end + 20].lstrip()
  left = before[-1] in _TERM_LEFT if before else start <= 20
  return left and (after[0] in _TERM_RIGHT if after else end + 20 >= len(text))


def _is_formula(text: str) -> bool:
  """No run of 4+ letters outside LaTeX commands, \\text{}, plain function calls such as sqrt(x) and the word sqrt
  before digits (8sqrt3) (those are prose, or words the parser refuses), no letters of another script, and not two
  or more short words ("We add 2 and 3 to get 5"; a run of 2-3 letters between operators is a product,
  "ac + ad + bc + bd")."""
  stripped = re.sub(r"\\(?:text|mathrm|textbf|mbox|operatorname|begin|end)\s*\{[^{}]*\}", "", text)
  stripped = _PLAIN_FUNCTION_CALL.sub(" ", stripped)
  stripped = _SQRT_DIGITS.sub(r" \1", stripped)
  if _WORDISH.search(stripped):
    return False
  words = 0
  for m in _SHORT_RUN.finditer(stripped):
    if m.group().lower() not in _MATH_WORDS and not _is_term(stripped, m.start(), m.end()):
      words += 1
      if words == 2:
        return False
  return True


# Words that restate after a negated value: "it's not 10, it's 1,000.99", "not 4 but 5", and the verbs that give the
# result of an operation whose operand the negation took: "21, minus 15, equals 6" ("minus" bears on 15, not on 6).
_RESTATEMENT = re.compile(r"\b(?:it's|it is|but|rather|instead|actually|equals|gives|leaves|mais|c'est|sondern|sino)\b",
                          re.IGNORECASE)


def _negated(clause: str) -> bool:
  """Whether the last negation or hedge of a clause ("not", "or", "minus", ...) bears on the value that ends the
  clause: it does unless another number follows the negation and the text then restates ("not 10, it's ...")."""
  last = None
  for last in _NEGATION.finditer(clause):
    pass
  if last is None:
    return False
  digit = re.search(r"\d", clause[last.end():])
  return not (digit and _RESTATEMENT.search(clause, last.end() + digit.end()))


def _spans(text: str) -> list[tuple[int, str]]:
  """(end, content) of the `$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]` spans of a text (each up to 1000 chars)."""
  return [(m.end(), next(g for g in m.groups() if g is not None)) for m in _MATH_SPAN.finditer(text)]


# Verbs that report a value as mentioned, not stated: "The derivation contains 42.", "The text mentions 3",
# "The prompt says 42", "The statement discusses $9$ possibilities".
_QUOTED = re.compile(r"\b(?:(?:contain|mention|include|cite|quote|reference|list|repeat|discuss)(?:es|s|ed|d|ing)?|"
                     r"says|said)\b",
                     re.IGNORECASE)
# Doubt stated after a value in its sentence: "42, but I am unsure.", "maybe 7, I'm not sure", "42 but I will
# reconsider".
_DOUBT_AFTER = re.compile(r"[^.;!?\n]{0,80}?\b(?:unsure|not sure|uncertain|not certain|no idea|doubt(?:ful)?|"
                          r"reconsider\w*|rethink\w*)\b", re.IGNORECASE)
# Labels that say the value after them is not the final answer yet.
_TENTATIVE = re.compile(r"\b(?:in progress|work in progress|wip|draft|tentative|preliminary|provisional|incomplete|"
                        r"unfinished|unverified|pending|todo|to do|placeholder|scratch|not final|so far|for now|"
                        r"intermediate|partial|estimate|guess|attempt|checking|still working)\b", re.IGNORECASE)


def _in_call(text: str, index: int) -> bool:
  """Whether text[index] lies inside the unclosed parentheses of a function call: `exec('x=1')`, `print(5)`,
  `sqrt(8)`, `f(3)`. The number is an argument there, never the value of the text."""
  depth = 0
  for i in range(index - 1, max(-1, index - 200), -1):
    c = text[i]
    if c == ")":
      depth += 1
    elif c == "(":
      if depth == 0:
        return re.search(r"[A-Za-z_][A-Za-z0-9_.]*\s*$", text[max(0, i - 40):i]) is not None
      depth -= 1
    elif c == "\n":
      return False
  return False


# What ends the clause before a value: punctuation, a line break, or a word that starts a new clause.
_CLAUSE_BREAK = re.compile(r"[.;:!?\n\uff0c\u3002\uff1b\uff1a\uff01\uff1f]|\b(?:which|so|then)\b|"
                           r"\u6240\u4ee5|\u56e0\u6b64")


def _last_value(text: str) -> str | None:
  """The last math span or standalone number of a prose text, whichever ends later, with a known unit written after
  the number ("The rope is 5 feet long" gives "5 feet": a unit the gold names otherwise refuses it); a number or a
  run of math spans preceded in its own clause by a negation ("not 5", "minus $5$") or a verb that quotes it
  ("contains 42", "mentions 3", "discusses $9$") or a comparison ("3 more than 12", "at least $12$"), or followed by
  doubt in its sentence ("42, but I am unsure"), and a number followed by a magnitude word ("5 thousand"), give
  None."""
  spans = _spans(text)
  span = spans[-1] if spans else None
  number = None
  for number in _STANDALONE_NUMBER.finditer(text):
    pass
  if number is not None and (span is None or number.end() > span[0]):
    clause = _CLAUSE_BREAK.split(text[max(0, number.start() - 60):number.start()])[-1]
    if (_negated(clause) or _QUOTED.search(clause) or _COMPARED.search(clause) or _MAGNITUDE.match(text, number.end())
        or _in_call(text, number.start()) or _DOUBT_AFTER.match(text, number.end())):
      return None
    if _SPACED_DIGITS.search(text, max(0, number.start() - 30), number.start()):  # "1 2": a run of digits, no value
      return None
    if _OPERAND.search(text, max(0, number.start() - 30), number.start() + (number.group().startswith("-"))) and not (
        number.group().startswith("-") and _signed_after_prose(text, number.start())):
      return None  # an exponent or a term of a formula (sech(x)**6, floor(x) + 1, 2x + 3), not its value
    if _GLUED_VARIABLE.match(text[number.end():number.end() + 2]):
      return None  # a coefficient glued to its variable ("we have 4x on the left"), not a value
    if _STEP_LABEL.search(clause):
      return None  # the number of a step ("Step 4: simplify"), not a value
    line = text[max(0, number.start() - 80):number.start()].rsplit("\n", 1)[-1]
    if _TENTATIVE.search(line):  # "Work in progress: 10", "Draft answer: 10"
      return None
    if _PERCENT_WORD.match(text, number.end()):
      return number.group() + "%"
    unit = _PROSE_UNIT.match(text, number.end())
    if unit and not (unit.group(1).lower() == "in" and re.match(r"[ \t]+[A-Za-z]", text[unit.end():])):
      return f"{number.group()} {unit.group(1)}"  # "5 feet": the unit stays, to be compared with the gold's
    return number.group()
  if span is None:
    return None
  start, run = _span_run_at(text)
  clause = _CLAUSE_BREAK.split(text[max(0, start - 60):start])[-1]
  if _negated(clause) or _QUOTED.search(clause) or _COMPARED.search(clause) or _DOUBT_AFTER.match(text, span[0]):
    return None  # "It is not $5$.", "The text discusses $9$ cases", "$42$, but I am unsure": as for a number
  return run


def _signed_after_prose(text: str, start: int) -> bool:
  """Whether the "-" at text[start] is a sign after a word of prose ("Result is -7"): no math function name or
  short variable name stands before it, and the text there is not a formula."""
  word = _PROSE_BEFORE_SIGN.search(text, max(0, start - 40), start)
  name = word.group(1).lower() if word else ""
  return bool(name) and name not in _MATH_WORDS and name not in PLAIN_FUNCTION_NAMES


def _span_run_at(text: str) -> tuple[int, str]:
  """Where the run of math spans that ends a text starts, and the run: the last span with the spans before it that
  a comma, "and" or "or" joins to it ("$1$, $2$, and $3$" is the list "1, 2, 3", never just its last element)."""
  spans = list(_MATH_SPAN.finditer(text))
  content = lambda m: next(g for g in m.groups() if g is not None).strip()  # noqa: E731
  run, start = [content(spans[-1])], spans[-1].start()
  for prev, cur in zip(spans[-2::-1], spans[:0:-1]):
    gap = text[prev.end():cur.start()]
    if len(gap) > 80 or not _JOINER.fullmatch(gap):
      break
    run.append(content(prev))
    start = prev.start()
  return start, ", ".join(run[::-1])


def _span_run(text: str) -> str:
  """The last run of math spans of a text, joined into one list (see _span_run_at)."""
  return _span_run_at(text)[1]


# The words that may stand right before an English answer marker ("The final answer is", "So my answer:", "Short
# answer:", "The result is Answer: -17", where the copula only introduces it): any other word qualifies the answer it
# introduces ("Wrong answer: 42", "Candidate answer: 42", "Previous answer: 42", "A non-final answer: 42").
_AFFIRMING = frozenset(("the my our your this its final correct right true exact actual real numerical numeric "
                        "simplified required desired resulting complete full overall ultimate definitive short brief "
                        "corrected revised updated verified checked confirmed new proper official "
                        "so thus therefore hence then and in conclusion summary is").split())
# Words in the clause before an answer marker that deny or hedge it: "This is not the final answer: 42", "Ignore the
# following answer: 42", "Possibly the answer: 42", "\u9519\u8bef\u7b54\u6848\uff1a42" (wrong answer),
# "\u8fd9\u4e0d\u662f\u6700\u7ec8\u7b54\u6848\uff1a42" (this is not the final answer).
_DISOWNING = re.compile(r"\b(?:not|no|never|non|isn't|wasn't|ignore|disregard|discard|skip|reject\w*|wrong|false|fake|"
                        r"incorrect|invalid|bogus|example|sample|dummy|previous|old|earlier|prior|former|candidate|"
                        r"alternative|possibl[ey]|maybe|perhaps|probably|might|could)\b|n't\b|"
                        r"[\u4e0d\u6ca1\u975e\u9519\u8bef\u5047\u5019\u4f8b\u65e7]|"
                        r"\u53ef\u80fd|\u4e5f\u8bb8|\u6216\u8bb8|\u4e4b\u524d|\u4ee5\u524d", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.!?;,:\n\u3002\uff1b\uff0c\uff1a\uff01\uff1f]")


def _last_answer_phrase(text: str) -> re.Match | None:
  """The last "answer is" / "answer:" marker in the last 20k characters of a text, or None."""
  last = None
  for last in _ANSWER_PHRASE.finditer(text, max(0, len(text) - 20_000)):
    pass
  return last


def _disowned(text: str, phrase: re.Match) -> bool:
  """Whether the clause before an answer marker denies or hedges it ("Wrong answer:", "This is not the final answer:",
  "Possibly the answer:"): a denying word anywhere in the clause, or an English marker whose word right before it is
  not one that affirms ("the", "final", "my", "so", ...). A disowned statement answers nothing."""
  clause = _CLAUSE_END.split(text[max(0, phrase.start() - 80):phrase.start()])[-1]
  if _DISOWNING.search(clause):
    return True
  word = re.search(r"([\w'-]+)[ \t]+$", clause)  # the word right before the marker ("<|im_start|>Answer:" has none)
  english = re.match(r"final|answer|correct|option|choice", phrase.group(), re.IGNORECASE)
  return bool(english and word and word.group(1).isascii() and word.group(1).lower() not in _AFFIRMING)


# A value followed by a parenthesised aside in prose ("42 (this is because we multiplied 6 by 7)", "42 (maybe 5)").
_ASIDE = re.compile(r"(?P<value>[^()]*[^\s(])\s*\((?P<aside>[A-Za-z][^()]*)\)\s*$")
# An aside that gives the reason for the value: its numbers are the work, not another answer.
_REASON = re.compile(r"(?:(?:this|that|which|it)\s+is\s+)?(?:because|since|as|from|by|using)\b", re.IGNORECASE)
# An aside that hedges the value with another one ("maybe 5", "or 6", "possibly 41").
_HEDGE_ASIDE = re.compile(r"^or\b|\b(?:maybe|perhaps|possibl[ey]|probably|might|could|either|alternatively)\b",
                          re.IGNORECASE)


# A plain number with an exclamation mark ending a statement in prose: punctuation, not a factorial ("$5!$", "5! = 120"
# and "2 \cdot 3!" stay formulas).
_EXCLAIMED_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?!")


# A value between the black lenticular brackets of CJK typography (U+3010, U+3011), which set off an answer the way
# markdown bold does: "The answer is \u301042\u3011", "\u7b54\u6848\u662f\u301042\u3011".
_LENTICULAR = re.compile(r"\u3010([^\u3010\u3011]+)\u3011")


def _statement(text: str, phrase: re.Match) -> str:
  """What an answer marker introduces: the rest of its line, to the end of its sentence or a LaTeX line break. A
  parenthesised aside after a value that gives its reason is dropped ("42 (this is because we multiplied 6 by 7)"
  states 42); one that hedges it with another value ("42 (maybe 5)") leaves the statement ambiguous (see
  _ambiguous)."""
  rest = text[phrase.end():phrase.end() + 600].split("\n", 1)[0].strip().strip("*_").strip()  # "**Answer:** 3"
  rest = re.split(r"\.(?:\s|$)|\u3002", rest, maxsplit=1)[0].strip().strip("*_").strip()  # "is **23**."
  lenticular = _LENTICULAR.fullmatch(rest)
  if lenticular:
    rest = lenticular.group(1).strip()  # "The answer is \u301042\u3011": brackets that set off the value, as bold does
  if _EXCLAIMED_NUMBER.fullmatch(rest):
    rest = rest[:-1]  # "The answer is 29!": the sentence's exclamation mark, as after a `####` marker's value
  if "\\begin" not in rest:
    rest = rest.split("\\\\", 1)[0].strip()  # "7 \\\\ ...": a line break ends the statement
  aside = _ASIDE.fullmatch(rest)
  if aside and _VALUE_MARK.search(aside.group("value")) and _REASON.match(aside.group("aside")):
    rest = aside.group("value").strip()
  return rest


# A word that ends the statement of a value and goes on with something else: "Final answer: $7$ because $42$".
_CONNECTIVE = re.compile(r"\s+(?:because|since|as|then|so|which|where|when|given|thus|hence|therefore|for|after|"
                         r"while|but)\b", re.IGNORECASE)
_VALUE_MARK = re.compile(r"\d|\$|\\\(")
# One letter glued to a number and ending there ("4x on the left"): a variable, so the number is its coefficient.
# c, g, h, l and m are left out: glued to a number they are units ("5g", "12m", "3h").
_GLUED_VARIABLE = re.compile(r"[A-Zabd-fijknopqr-z](?:[\s.,;:!?)]|$)")
# A word that numbers a part of the work: the number after it labels a step ("Step 4:"), it is no answer.
_STEP_LABEL = re.compile(r"\b(?:step|part|case|stage)\s*$", re.IGNORECASE)


def _ambiguous(statement: str) -> bool:
  """Whether a statement gives a value and then, after a connective (or, in prose, a semicolon), math or another
  value ("$7$ because $42$", "3/4 so 4", "7 then $42$", "41 apples; 42 is wrong"), or hedges it with another value in
  a parenthesised aside ("42 (maybe 5)"): which of them it answers is unclear, so it answers nothing."""
  aside = _ASIDE.fullmatch(statement)
  if aside and _HEDGE_ASIDE.search(aside.group("aside")) and _VALUE_MARK.search(aside.group("aside")):
    return True  # "42 (maybe 5)", "42 (or 6)": two values offered
  m = _CONNECTIVE.search(statement)
  if m is None and not _is_formula(statement):  # prose: "41 apples; 42 is wrong" (a formula's ";" separates solutions)
    m = re.search(r";\s", statement)
  return m is not None and bool(_VALUE_MARK.search(statement, 0, m.start())) and bool(
      _VALUE_MARK.search(statement, m.end()))


def _refused_statement(text: str) -> bool:
  """Whether the last answer statement of a text answers nothing, so that no earlier value may stand in for it:
  a disowned one ("Rejected answer: 42"), one that ends the text with nothing after it ("\\boxed{42}; final
  answer:"), or an ambiguous one ("Final answer: $7$ because $42$")."""
  phrase = _last_answer_phrase(text)
  if phrase is None:
    return False
  return (_disowned(text, phrase) or not re.sub(r"[\s*_:.,;$]", "", text[phrase.end():])
          or _ambiguous(_statement(text, phrase)))


def _after_phrase(text: str) -> str | None:
  """What follows the last "answer is" / "answer:" in the last 20k characters, to the end of its line or sentence
  (or a LaTeX line break): the whole of it when it is a formula, else the value its sentence ends on ("... of $f(x)$
  is 19." gives 19). None for a disowned or ambiguous statement ("Wrong answer: 42", "$7$ because $42$")."""
  last = _last_answer_phrase(text)
  if last is None or _TENTATIVE.search(_CLAUSE_END.split(text[max(0, last.start() - 80):last.start()])[-1]):
    return None  # no answer phrase, or a tentative one in its clause: "Draft answer: 10" (not "After checking, the")
  rest = _statement(text, last)
  if not rest or _disowned(text, last) or _ambiguous(rest):
    return None
  if _is_formula(rest):  # "$12$ and $13$" is the list of both
    return _span_run(rest) if _spans(rest) and not rest.startswith("\\(") else rest.strip("$ ")
  if _NEGATION.search(rest.split(" is ")[-1] if " is " in rest else rest):
    return None
  tail = re.split(r"\b(?:is|are|equals|be)\b|=", rest)[-1].strip()
  if tail and _is_formula(tail):
    return _span_run(tail) if _spans(tail) else tail.strip("$ ")
  return _last_value(rest)


# A dollar amount after a `$` ("$5", "$ 1,200.50 each"): a price, not the start of inline math ("$1+2 = 3$").
_DOLLAR_AMOUNT = re.compile(r"\s?\d[\d,]*(?:\.\d+)?(?![\d,.]*\s*[-+*/^_{}=\\<>])")


def _cut_off(text: str) -> bool:
  """Whether a text stops inside inline math: an odd number of unescaped `$`, the last of them opening (after a
  space or a line start, neither before nor after a dollar amount) within the final 300 characters, no blank line
  after it ("... Let $b_1=1, r_1=1 \\implies w_", "... Each $"). Such a completion was cut off before its answer:
  the last value of its prose is a step of the work, not an answer."""
  dollars = [m.start() for m in re.finditer(r"(?<!\\)\$", text)]
  if len(dollars) % 2 == 0:
    return False
  last = dollars[-1]
  rest = text[last + 1:]
  if last > 0 and text[last - 1] not in " \t\n([" or re.search(r"\d[ \t]?$", text[max(0, last - 2):last]):
    return False  # closing math ("$x=3$"), or a dollar sign written after its amount ("30 $", in French prose)
  return len(rest) <= 300 and not re.search(r"\n[ \t]*\n", rest) and not _DOLLAR_AMOUNT.match(rest)


# A line that announces work still to do: "Now solve the remaining steps.", "Next, compute the area.", "To be
# continued".
_MORE_WORK = re.compile(r"\b(?:now|next|then|let(?:'s| us| me))\b[^.!?\n]{0,60}?\b(?:solve|compute|calculate|find|"
                        r"determine|finish|work out|continue)\b|\bremaining (?:steps?|work|parts?|cases?)\b|"
                        r"\bto be continued\b|\bcontinu(?:e|es|ing)\b", re.IGNORECASE)


def _unfinished(text: str) -> bool:
  """Whether a text of several lines ends on a line that holds no value and announces work still to do: "Work:
  42.\\nNow solve the remaining steps." has not answered, its last number is a step of the work."""
  earlier, _, last = text.strip().rpartition("\n")  # `last` is the last non-blank line
  return (bool(re.search(r"\S", earlier)) and not re.search(r"\d|\$|\\[(\[]", last)
          and bool(_MORE_WORK.search(last)))


# Closing markup tags ending a line ("</parameter></function>" of a tool call): markup, not part of the value.
_CLOSING_TAGS = re.compile(r"(?:\s*</[A-Za-z][\w:.-]{0,30}>)+\s*$")


def _marker_value(line: str) -> str | None:
  """What the line of a GSM8K `####` marker states: the whole line when it is a formula ("#### $1,500"), else the value
  its prose gives, as an answer statement's ("#### 1,234 apples." states 1,234); a line that negates, disowns or doubts
  its value or goes on to another one ("#### 5 is wrong", "#### 10, but Answer: 42") states nothing, and a line with
  no value stays as written (and answers nothing: "#### done")."""
  if _is_formula(line):
    return line
  if _ambiguous(line) or _NEGATION.search(line) or _DISOWNING.search(line) or _DOUBT_AFTER.search(line):
    return None
  value = _last_value(line)
  return line if value is None else value


_JSON_TAIL = re.compile(r"\{[^{}]{1,500}\}\s*$")


def _json_answer(region: str) -> tuple[bool, str | None]:
  """Whether a text ends with a JSON object that has an "answer" / "final_answer" key, and the answer it gives:
  'Final: {"answer": 6, "confidence": 0.9}' answers 6, not the confidence after it. The key's value must be one
  number or string; a repeated key or any other value answers nothing. (False, None) when the text does not end with
  such an object: it is read as prose. json.loads parses data only; nothing is evaluated."""
  m = _JSON_TAIL.search(region[-600:])
  if m is None:
    return False, None
  try:
    pairs = json.loads(m.group(), object_pairs_hook=lambda items: items)
  except ValueError:
    return False, None
  values = [v for k, v in pairs if k.lower() in ("answer", "final_answer")] if isinstance(pairs, list) else []
  if not values:
    return False, None
  if len(values) > 1 or isinstance(values[0], bool) or not isinstance(values[0], (int, float, str)):
    return True, None
  return True, str(values[0]).strip() or None


# A conclusion after the work on one line: "48 + 24, so 72", "6 \cdot 7, hence 42", read as an equation of the two.
_CONCLUSION = re.compile(r"(?:[,;]\s*|\s)(?:so|thus|hence|therefore)\s+", re.IGNORECASE)


def _answer_from_text(region: str) -> str | None:
  """Answer markers in free text: `#### N`, "the answer is", a short formula, the last math span or number. A refused
  last answer statement (disowned, or empty at the end of the text) answers nothing."""
  if _refused_statement(region):
    return None
  has_json_answer, json_answer = _json_answer(region)
  if has_json_answer:
    return json_answer
  hashes = region.rfind("####")
  if hashes >= 0:
    line = region[hashes + 4:hashes + 4 + 300].strip().split("\n", 1)[0].strip().lstrip(":").strip()
    line = line.strip("*_").strip()  # "Final answer: **#### -12.5**": markdown emphasis around the marker
    line = _CLOSING_TAGS.sub("", line)  # "#### 42.0</parameter></function>": a tool call's markup closes, 42.0
    later = region[hashes + 4:].lstrip().split("\n", 1)[1:]  # "#### 42\nWait, the answer is 41." answers 41
    stated = _after_phrase(later[0]) if later and _ANSWER_PHRASE.search(later[0]) else None
    if stated is not None and not _NEGATION.search(stated):
      return stated
    if line:
      return _marker_value(line)
  phrase = _after_phrase(region)
  if phrase is not None:
    return None if _statement_contradicted(region, phrase) else phrase
  stripped = region.strip()
  outside = _MATH_SPAN.sub(" ", stripped) if "$" in stripped or "\\" in stripped else ""
  words_outside_math = any(w.lower() not in ("and", "or") for w in re.findall(r"[A-Za-z]{2,}", outside))
  if stripped and len(stripped) <= 200 and "\n" not in stripped and _is_formula(stripped) and not (
      words_outside_math and _spans(stripped)):  # "The sum is $A + B$": the math, not the sentence
    conclusion = None
    for conclusion in _CONCLUSION.finditer(stripped):
      pass
    if conclusion is not None and _VALUE_MARK.search(stripped, 0, conclusion.start()):
      work, rest = stripped[:conclusion.start()].strip(), stripped[conclusion.end():].strip().rstrip(".")
      if not rest or not _VALUE_MARK.search(rest):
        return None
      # "48 + 24, so 72" is 48 + 24 = 72, whose sides must agree ("2 + 2, so 5" is a false equation, no answer)
      return rest if "=" in work or "=" in rest else f"{work} = {rest}"
    return stripped
  value = None if _cut_off(region) or _unfinished(region) else _last_value(region[-3000:])
  if value is not None:
    return value
  if stripped and len(stripped.split()) <= 3 and "<" not in stripped:  # a word answer: "even", "no solution"
    return stripped
  return None


def _answer_from_tag(content: str) -> str | None:
  """The answer inside `<answer>...</answer>` without a box: the whole content, a leading "The answer is" dropped,
  or the last math span of a prose sentence. Never a number picked out of prose: the tag holds the answer."""
  text = content.strip()
  m = None
  for m in _ANSWER_PHRASE.finditer(text):
    pass
  if m is not None:
    if _disowned(text, m):
      return None  # "<answer>Wrong answer: 42</answer>"
    text = text[m.end():].strip()
  text = re.sub(r"(?<!\d)\.$", "", text).strip()
  if _ambiguous(text):
    return None  # "<answer>$7$ because $42$</answer>"
  if not _is_formula(text):
    spans = _spans(text)
    if spans and _is_formula(_MATH_SPAN.sub(" ", text).replace("or", "").replace("and", "")):
      return text
    if spans and not _NEGATION.search(text):
      return spans[-1][1].strip()
  return text or None


def extract_answer(completion: str) -> str | None:
  """The final answer in a model completion (see the module docstring for the order), or None."""
  region = answer_region(completion)
  if region is None:
    return None
  close = region.rfind("</answer>")
  if region.find("<answer>", max(close, 0)) >= 0:
    return None  # an <answer> tag that never closes is an unfinished answer: "<answer>42</answer> then <answer>"
  if close >= 0:
    start = region.rfind("<answer>", 0, close)
    if start < 0:
      return None  # the answer's opening tag lies outside the tail: far too long to be an answer
    before = _boxes(region[:start], max_boxes=1)
    if before and before[-1][2] is None:
      return None  # the tag sits inside a box that never closes: "\\boxed{broken <answer>42</answer>"
    answer = _tag_answer(region[start + len("<answer>"):close])
    if answer is not None and _conflicting_tags(region[:start], answer):
      return None  # "<answer>2</answer> then <answer>3</answer>": two answers, no final one
    return answer
  if any(name in region for name in _BOX_NAMES):
    boxed = boxed_answer(region)
    if boxed is None or _box_refused(region):
      return None
    after = _answer_after_boxes(region)
    if after is None and _box_contradicted(region, boxed):
      return None  # "Final Answer: 12. Therefore \\boxed{14}.": two answers, no final one
    return after or boxed
  return _answer_from_text(region)


def _tag_answer(tag: str) -> str | None:
  """The answer of one `<answer>` tag's content: its boxes if it has any, else its whole content."""
  if any(name in tag for name in _BOX_NAMES):
    return None if _box_refused(tag) else boxed_answer(tag)
  return _answer_from_tag(tag)


def _conflicting_tags(before: str, answer: str) -> bool:
  """Whether a complete `<answer>` tag before the last one gives another answer. The R1 format has one answer tag;
  several that disagree ("<answer>2</answer> then <answer>3</answer>") leave no final answer, while repeats of one
  answer in other forms ("<answer>1/2</answer> ... <answer>\\frac{2}{4}</answer>") keep it. Tags whose agreement
  would need sympy count as disagreeing."""
  for tag in re.findall(r"<answer>(.*?)</answer>", before[-3000:], re.DOTALL):
    earlier = _tag_answer(tag)
    if earlier is not None and earlier.strip() and _values_disagree(earlier, answer):
      return True
  return False


def _values_disagree(earlier: str, later: str) -> bool:
  """Whether an earlier answer gives another value than a later one: the fast path does not find them equal (values
  whose agreement would need sympy count as disagreeing). An earlier answer that normalises to nothing disagrees
  with nothing."""
  value, pct = normalize(earlier)
  last, last_pct = normalize(later)
  return bool(value) and _fast_judge(last, last_pct, value, pct) is not True


def _two_statements(between: str) -> bool:
  """Whether the text between an answer statement and a later answer leaves them two answers: the same paragraph,
  no box and no word of correction between them, and the first statement's sentence ended before the second. Else
  the second corrects the first, or the two are one statement ("Final Answer: The final answer is 42", "is
  $x \\in \\boxed{}$")."""
  return not (re.search(r"\n[ \t]*\n", between) or any(name in between for name in _BOX_NAMES)
              or _CORRECTION.search(between) or not re.search(r"[.!?;](?:\s|$)|\n", between))


# Words between an answer statement and a later box that take the statement back: the box corrects it.
_CORRECTION = re.compile(r"\b(?:wait|actually|but|however|instead|rather|then|correct(?:ion|ed|ing)?|mistake|error|"
                         r"wrong|oops|sorry|hmm|re-?check\w*|re-?calculat\w*|re-?do|revis\w*|double[- ]check\w*|"
                         r"verif\w*|let me|let's|let us)\b", re.IGNORECASE)


def _box_contradicted(region: str, boxed: str) -> bool:
  """Whether an answer statement before the last box (an answer phrase or a GSM8K `####` marker), in its paragraph,
  gives another value, its sentence ended before the box, with no box and no word of correction ("wait", "actually",
  "then", "let me recheck", ...) between them: "Final Answer: 12. Therefore \\boxed{14}." and "#### 41\\n\\boxed{42}"
  state two answers and so none, like two `<answer>` tags that disagree. Values whose agreement would need sympy
  count as disagreeing; a statement that holds no value ("The final answer is \\boxed{14}") contradicts nothing."""
  start = _boxes(region, max_boxes=1)[-1][0]
  before = region[max(0, start - 3000):start]
  phrase = _last_answer_phrase(before)
  hashes = before.rfind("####")
  if hashes > (phrase.start() if phrase is not None else -1):  # "#### 41\n\\boxed{42}": the marker states 41
    between = before[hashes + 4:]
    stated = between.strip().split("\n", 1)[0].strip()
    return (len(between) <= 300 and _two_statements(between) and bool(_VALUE_MARK.search(stated))
            and _values_disagree(stated, boxed))
  if phrase is None:
    return False
  between = before[phrase.end():]
  if len(between) > 300 or not _two_statements(between):
    return False
  stated = _after_phrase(before)
  return stated is not None and bool(stated.strip()) and _values_disagree(stated, boxed)


def _statement_contradicted(region: str, stated: str) -> bool:
  """Whether the answer statement before the last one, in its paragraph and at most 300 characters before it, gives
  another value, its sentence ended, with no word of correction between them: "Answer: 5\nAnswer: 6" states two
  answers and so none, like a box that contradicts the statement before it (_box_contradicted); "Answer: 10 is wrong.
  Answer: 42" corrects the first, and "Final Answer: The final answer is 42" is one statement. Values whose agreement
  would need sympy count as disagreeing."""
  last = _last_answer_phrase(region)
  if last is None:
    return False
  before = region[max(0, last.start() - 300):last.start()]
  earlier = _last_answer_phrase(before)
  if earlier is None:
    return False
  if not _two_statements(before[earlier.end():]):
    return False
  previous = _after_phrase(before)
  return previous is not None and bool(_VALUE_MARK.search(previous)) and _values_disagree(previous, stated)


# Words and a colon right before a box on its line, in its clause: "Example: \\boxed{42}", "**Draft:** $\\boxed{42}$".
_BOX_LABEL_WORDS = re.compile(r"(?:^|[.!?;\n])[\s*_]*([A-Za-z][A-Za-z ]{0,30}?)[\s*_]*:[\s*_]*(?:\$\$?|\\\(|\\\[)?\s*$")


def _box_refused(text: str) -> bool:
  """Whether the last box of a text answers nothing though it closes: it is a factor juxtaposed to a value before it
  on its line ("x=0\\boxed{42}" is x = 0 \u00b7 42; a value ending the line before is none: "#### 42\\n\\boxed{42}"),
  a disowned statement or a label that disowns it introduces it on its line ("Candidate answer: \\boxed{42}",
  "Example: \\boxed{42}", "Draft: \\boxed{42}"), its own sentence doubts it ("\\boxed{42} but I will reconsider"), or a
  refused answer statement follows it ("\\boxed{42}; final answer:", "\\boxed{42}. Wrong answer: 42")."""
  boxes = _boxes(text, max_boxes=1)
  if not boxes:
    return False
  start, end, _ = boxes[-1]
  if re.search(r"\d[ \t]*\Z", text[max(0, start - 20):start]):  # \Z: "#### 42\n\boxed{42}" is no product
    return True
  line = text[:start].rsplit("\n", 1)[-1]
  phrase = _last_answer_phrase(line)
  if phrase is not None and _disowned(line, phrase):
    return True
  label = _BOX_LABEL_WORDS.search(line)
  if label and (_DISOWNING.search(label.group(1)) or _TENTATIVE.search(label.group(1))):
    return True  # "Example: \\boxed{42}", "Draft: \\boxed{42}": a label says the box is no answer
  if _DOUBT_AFTER.match(text, end):
    return True  # "\\boxed{42} but I will reconsider": the box is doubted in its own sentence
  return _refused_statement(text[end:])


def _answer_after_boxes(region: str) -> str | None:
  """What an answer statement after the last box says ("... \\boxed{255} ... The final answer is $10,455$."): the
  last statement of the answer wins over a box that came before it. None when no answer phrase follows the last
  box, or it holds no value ("the answer is correct") or a negated one ("the answer is not 8")."""
  boxes = _boxes(region, max_boxes=1)
  tail = region[boxes[-1][1]:] if boxes else ""
  stated = _after_phrase(tail) if _ANSWER_PHRASE.search(tail) else None
  return None if stated is None or _NEGATION.search(stated) else stated


def extract_gold(gold: str) -> str | None:
  """The answer in a gold string: GSM8K `#### N`, a MATH solution's last `\\boxed{}` (a run of boxes joined), or
  the string itself with its math delimiters removed."""
  gold = _undouble(gold, gold=True)
  hashes = gold.rfind("####")
  if hashes >= 0:
    return gold[hashes + 4:].strip() or None
  if any(name in gold for name in _BOX_NAMES):
    boxed = boxed_answer(gold)
    if boxed is not None:
      return boxed
  text = gold.strip()
  for opening, closing in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
    if text.startswith(opening) and text.endswith(closing) and len(text) >= len(opening) + len(closing):
      text = text[len(opening):len(text) - len(closing)].strip()
  if not _is_formula(text) and _ANSWER_PHRASE.search(text):  # "the answer is 10000"
    return _after_phrase(text)
  return text or None


# ---------------------------------------------------------------------------------------------------------------
# Normalisation

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u00d7": "\\times ", "\u00f7": "\\div ", "\u00b7": "\\cdot ", "\u22c5": "\\cdot ",
    "\u2217": "\\ast ",  # the asterisk operator, the character LaTeX's \ast prints: 3\u2217x is 3*x
    "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u221a": "\\sqrt", "\u2264": "\\le ", "\u2265": "\\ge ",
    "\u2260": "\\ne ", "\u2266": "\\le ", "\u2267": "\\ge ",  # \u2266 and \u2267 are \leqq and \geqq
    "\u222a": "\\cup ", "\u2208": "\\in ",
    "\u00b1": "\\pm ", "\u2213": "\\mp ",  # the plus-minus signs: 5 \u00b1 x is 5 \pm x, the list 5 + x, 5 - x
    "\u3001": ",", "\u6216": " or ",  # Chinese enumeration comma (1\u30012) and "or" (x=2 \u6216 x=3)
}
# The radical sign before digits covers the whole number, as its bar does in print: \u221a16 is \sqrt{16}, 20\u221a57 is
# 20\sqrt{57} (LaTeX's \sqrt16 would be \sqrt{1}6, so the sign must not become a bare \sqrt there). Only the digit
# run is the radicand: \u221a3/2 is \sqrt{3}/2 and \u221a2x is \sqrt{2}x, as before.
_RADICAL_DIGITS = re.compile(r"\u221a[ \t]*(\d+(?:\.\d+)?)")
# Before a lone letter the sign covers that letter: \u221ax is \sqrt{x}, 2\u221ax + C is 2\sqrt{x} + C (a bare \sqrt
# glued to the letter was the unknown command \sqrtx, so such answers did not read). A letter followed by another
# letter or a digit (\u221axy, \u221ax2) stays unread: whether the bar covers one character or the run is not known.
_RADICAL_LETTER = re.compile(r"\u221a[ \t]*([A-Za-z])(?![A-Za-z0-9])")
# nCr and nPr between two whole numbers, as school books write combinations and permutations: 5C3 is \binom{5}{3},
# 5P3 is nPr(5, 3), never the product 5*C*3 (which made 3C5 answer 5C3). Only digits on both sides, glued to the
# letter and to nothing else: x5C3, 5C3x, 2.5C3 and 5 C 3 stay what they were.
_COMBINATION = re.compile(r"(?<![\w.\\^{])(\d+)([CP])(\d+)(?![\w.])")
# The word sqrt before a number covers the whole number, as the radical sign does: 8sqrt3 is 8\sqrt{3}, sqrt12 is
# \sqrt{12}. A letter or digit glued after the number (sqrt2x) leaves it as it was, since the root may cover that
# too; a backslash before it keeps LaTeX's reading (\sqrt12 is \sqrt{1}2), and a letter before it, a longer name.
_SQRT_DIGITS = re.compile(r"(?<![\\A-Za-z])sqrt[ \t]*(\d+(?:\.\d+)?)(?!\.?\w)")
# A vulgar fraction character is its fraction: \u00bd is \frac{1}{2}, -\u00be is -\frac{3}{4}. Only one that stands
# alone: glued to a digit, a letter or a point before it (1\u00bd, x\u00bd) or to a digit after it, it stays unread,
# since 1\u00bd may be the mixed number or the product.
_VULGAR = {"\u00bd": (1, 2), "\u2153": (1, 3), "\u2154": (2, 3), "\u00bc": (1, 4), "\u00be": (3, 4),
           "\u2155": (1, 5), "\u2156": (2, 5), "\u2157": (3, 5), "\u2158": (4, 5), "\u2159": (1, 6),
           "\u215a": (5, 6), "\u2150": (1, 7), "\u215b": (1, 8), "\u215c": (3, 8), "\u215d": (5, 8),
           "\u215e": (7, 8), "\u2151": (1, 9), "\u2152": (1, 10)}
_VULGAR_FRACTION = re.compile("(?<![0-9A-Za-z.])([" + "".join(_VULGAR) + "])(?![0-9])")
# The plus-minus sign typed in ASCII: +/- anywhere, and +- where no value stands before it (at the start, after =, a
# comma or an opening parenthesis): +-5 is \pm 5, x = +-3 is x = \pm 3. Between two values +- stays a plus of a
# negative (x+-y is x - y).
_ASCII_PLUS_MINUS = re.compile(r"(^|[=,(])[ \t]*\+[ \t]*-(?=[ \t]*[\w\\(.])")
# x or X between a number and a power of ten is a times sign, as scientific notation is typed: 3x10^8 is
# 3 \times 10^8, 2.5 X 10^{-3} is 2.5 \times 10^{-3}. Only a plain number before it (nothing glued to its front: a
# letter, a point, a command or a caret) and a whole power of ten after it with nothing glued to the exponent but a
# closing point, so x10^8, 3x10^8y, 3x10^n and 3x10^8.5 stay products with the letter x.
_TIMES_TEN = re.compile(r"(?<![\w.\\^])(\d+(?:\.\d+)?)[ \t]*[xX][ \t]*"
                        r"(?=10[ \t]*\^[ \t]*(?:\{[ \t]*[-+]?\d+[ \t]*\}|[-+]?\d+)(?!\w|\.\d))")
# Fullwidth forms (U+FF01-U+FF5E) are their ASCII characters, as East Asian input methods type them:
# \uff08x\uff0b1\uff09 is (x+1), \uff14\uff12 is 42.
_FULLWIDTH_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# A run of superscript characters is one exponent (x\u00b2\u00b3 is x^{23}, 10\u207b\u2078 is 10^{-8}).
_SUPERSCRIPT_ASCII = str.maketrans("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b\u207a",
                                   "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[\u2070\u00b9\u00b2\u00b3\u2074-\u2079\u207b\u207a]+")
# A function name in capitals before its argument, as calculators and spreadsheets write it: SQRT(3), LN(2), SIN(x).
_CAPITAL_FUNCTION = re.compile(r"(?<![\\A-Za-z])(?:SQRT|SIN|COS|TAN|COT|SEC|CSC|LN|LOG|EXP|ABS)(?=\s*\()")
# A derivative named before an equals sign: f'(x) = 2x, y'' = 3 (the primes make a name of their own, so f'(x) = 5
# does not answer f(x) = 5).
_DERIVATIVE_LABEL = re.compile(r"^([A-Za-z])('{1,2})(?=\s*(?:\([A-Za-z0-9]{1,3}\))?\s*=)")
_UNITS = (
    "centimeters?|centimetres?|cm|millimeters?|mm|kilometers?|kilometres?|km|meters?|metres?|inch(?:es)?|in|"
    "feet|foot|ft|yards?|yd|miles?|mi|mph|km/h|m/s|units?|square units|sq units|degrees?|deg|radians?|rad|"
    "seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|dollars?|cents?|kg|kilograms?|"
    "grams?|lbs?|pounds?|ounces?|oz|liters?|litres?|ml|gallons?|cups?|percent|people|persons?|students?|"
    "kPa|Pa|kHz|MHz|GHz|Hz|kJ|kWh|kW|mg")
# A known unit word right after a number of prose, spaced or glued: "5 feet", "12cm" ("in" only where no word follows).
_PROSE_UNIT = re.compile(rf"[ \t]?((?:sq\.?\s+|square\s+|cubic\s+)?(?:{_UNITS}))(?![A-Za-z0-9])", re.IGNORECASE)
# A number and a one-letter unit abbreviation (3 m, 12 s, 5g): a unit only where the other side names that unit.
_ONE_LETTER_UNIT = re.compile(r"([-+]?\d+(?:\.\d+)?)\s*([mgshlL])\.?")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|textsf|mathrm|mbox|hbox|mathit)\s*\{([^{}]*)\}"
                       r"(\s*\^\s*\{?[23]\}?)?")
_UNIT_WORD = re.compile(rf"^\s*(?:sq\.?\s+|square\s+|cubic\s+)?(?:{_UNITS}|m|s|g|h|l)\.?\s*$", re.IGNORECASE)
_TRAILING_UNIT = re.compile(
    rf"(?:(?<=[}})\s])\s*|(?<=\d)(?=[a-zA-Z]{{4}}))(?:sq\.?\s+|square\s+|cubic\s+)?(?:{_UNITS})(?:\s*\^\s*\{{?[23]\}}?)?\.?\s*$",
    re.IGNORECASE)  # after a space or a brace; glued to the number only when 4+ letters long ("10weeks", not "10cm")
_INNER_UNIT = re.compile(rf"(?<=\d)\s+(?:{_UNITS})(?=\s*(?:[,;)\]}}]|\\}}))", re.IGNORECASE)  # "{35 cm, 4}"
_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_SPACED_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?")
_DOTTED_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?:\.\d{3}){2,}")
# A decimal whose digits spaces group in threes on both sides of the point, as the SI writes numbers (12 345.678 9;
# 1,234 5 with a decimal comma): the fractional part's groups of three count from the point, the last one is shorter.
_SPACED_DECIMALS = re.compile(r"[-+]?(?:[1-9]\d{0,2}(?: \d{3})+|\d+)[.,]\d{3}(?: \d{3})* \d{1,3}")
# A sign said in a word: a whole answer "minus 6" or "negative 1/7" (a tutor's or a voice transcript's answer) is -6
# or -1/7. Only a lone number takes it; "10 minus 6", "minus 5 plus 3" and "minus six" stay words and refuse.
_SPOKEN_SIGN = re.compile(r"(?:minus|negative)\s+(\d+(?:\.\d+)?(?:\s*/\s*\d+)?)", re.IGNORECASE)
# A whole answer that is a mixed number: an integer (spaced thousands allowed), a space and a proper fraction a/b.
_MIXED_NUMBER = re.compile(r"([-+]?)(\d{1,3}(?: \d{3})+|\d{1,20})\s+(\d{1,20})\s*/\s*(\d{1,20})")
# A number with a unit abbreviation glued to it (12cm): the whole answer, two or more letters, never one (12m).
_GLUED_UNIT = re.compile(r"^([-+]?\d+(?:\.\d+)?)(?:cm|mm|km|kg|mg|ml|mL|ft|yd|lbs?|oz|hrs?|mins?|secs?|kPa|"
                         r"kHz|MHz|Hz|mph)(?:\s*\^\s*\{?[23]\}?)?$")


# One pass over backslash sequences, so that a matrix row break (two backslashes) is never read as `\[` or `\ `.
_DELIMITERS = re.compile(r"\\\\|\\[()\[\],;:! $]|\\displaystyle(?![a-zA-Z])|\\q?quad|[$~]")


def _delimiter_replacement(m: re.Match) -> str:
  """Keep row breaks; drop math delimiters, $ and thin spaces (1\\,000 is 1000); wide spaces become a space."""
  text = m.group()
  if text == "\\\\":
    return text
  return " " if text in ("\\ ", "~", "\\$") or text[1:] in ("quad", "qquad", "displaystyle") else ""


# Words that change or hedge the value they follow: "5\text{ hundred}", "5\text{ or more}", "5\text{ is wrong}".
_QUALIFIERS = frozenset(
    "not no never wrong incorrect false except but or and nor minus negative plus times over divided by squared "
    "cubed square root power half halves quarter quarters third thirds hundred hundreds thousand thousands million "
    "millions billion billions trillion trillions dozen dozens percent percentage less more than least most at up to "
    "from between if unless maybe perhaps possibly either neither guess approximately about roughly nearly almost "
    "digit digits th st nd rd".split())


def _after_value(before: str) -> bool:
  """Whether text ending with `before` ends with a value (a digit or a closing bracket, maybe squared or cubed)."""
  return re.search(r"[\d)\]}]\s*(?:\^\s*\{?[23]\}?\s*)?$", before) is not None


def _is_label_after_value(content: str, before: str, after: str) -> bool:
  """Whether \\text{content} is a label ending a value ("17\\text{ apples}"): one plain word of two or more letters
  (one letter is a symbol: 5\\mathrm{e}) that does not qualify a number, after a digit or a closing bracket and with
  nothing but punctuation after it. Several words are prose, not a label ("42\\text{ arbitrary prose}"), unless
  they spell a unit ("square units")."""
  words = content.replace("-", " ").split()
  return (len(words) == 1 and all(w.isascii() and w.isalpha() and len(w) > 1 and w.lower() not in _QUALIFIERS
                                      for w in words)
          and _after_value(before) and not re.search(r"\w", after))


def _replace_text_commands(s: str, lenient: bool = False) -> str:
  """\\text{cm} after a number goes (a unit); \\text{ or } becomes a comma; other \\text{...} is unwrapped. With
  `lenient` (gold strings, which are trusted) any words beside a number go: "17\\text{ any text}" is 17."""
  for _ in range(10):  # nested \text{\text{...}}: innermost first, bounded
    def repl(m, s=s):
      content = m.group(1).strip()
      if content.lower() in ("or", "and", ","):
        return ","
      rest = s[:m.start()] + s[m.end():]
      words = content.replace(" ", "")
      if (_UNIT_WORD.match(content) and (len(words) > 1 or _after_value(s[:m.start()]))) or (
          lenient and len(words) > 1 and words.isalpha() and re.search(r"\d", rest)):
        return " "
      if _is_label_after_value(content, s[:m.start()], s[m.end():]):
        return " "
      return " " + m.group(1) + " " + (m.group(2) or "")

    new = _TEXT_CMD.sub(repl, s, count=1)
    if new == s:
      return s
    s = new
  return s


_UNEVALUATED = re.compile(r"\\(?:lim|sum|prod|int|iint|oint)(?![a-zA-Z])")
_OPEN, _CLOSE = "({[", ")}]"


def _equals_sides(s: str) -> list[str]:
  """`s` split at its top-level '=' signs (not inside brackets, not part of <=, >=, !=, ==)."""
  sides, depth, start = [], 0, 0
  for i, c in enumerate(s):
    if c in _OPEN:
      depth += 1
    elif c in _CLOSE:
      depth -= 1
    elif c == "=" and depth == 0 and (i == 0 or s[i - 1] not in "<>!=") and s[i + 1:i + 2] != "=":
      sides.append(s[start:i])
      start = i + 1
  return sides + [s[start:]]


def _drop_unevaluated_sides(s: str) -> str:
  """Drop the sides before the last of an equality chain that hold a limit, sum, product or integral: the parser
  cannot evaluate them, and they are the computation leading to the answer ("\\lim_{x \\to 0} \\frac{\\sin x}{x} = 1"
  answers 1). The other sides stay and must still agree with each other. When the last side holds one, the chain
  is left whole (F_n = \\sum ... is a formula, not F_n)."""
  if "=" not in s or not _UNEVALUATED.search(s):
    return s
  sides = _equals_sides(s)
  if _UNEVALUATED.search(sides[-1]):
    return s
  kept = [side for side in sides if not _UNEVALUATED.search(side)]
  return "=".join(kept)


_TRIG = re.compile(r"(?<![a-zA-Z])\\?(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])")
_DEGREES = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree|\u00b0)")
_TRIG_ARGUMENT = re.compile(r"\s*(?:\^\s*(?:\{[^{}]*\}|\S))?\s*(?:\d+(?:\.\d+)?\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\circ|"
                            r"\\degree|\u00b0)|(?=[({]))")


def _trig_degrees(s: str) -> str:
  """Degrees inside the argument of a trigonometric function become radians (\\sin(90^\\circ - x) is \\cos x,
  \\sin 30^\\circ is 1/2); everywhere else a degree sign is dropped later (an angle of 30^\\circ answers 30)."""
  if "\\circ" not in s and "\\degree" not in s and "\u00b0" not in s:
    return s
  spans = []
  for m in _TRIG.finditer(s):
    arg = _TRIG_ARGUMENT.match(s, m.end())
    if arg is None:
      continue
    end = arg.end()
    if end < len(s) and s[end] in "({":
      close = _match_brace(s, end)
      if close < 0:
        continue
      end = close + 1
    spans.append((m.end(), end))
  for start, end in reversed(spans):
    s = s[:start] + _DEGREES.sub(r"(\1\\pi/180)", s[start:end]) + s[end:]
  return s


# LaTeX's braced comma between digits ({,} keeps TeX from spacing it): the decimal comma of French and German
# typesetting, except where it can group thousands, as a plain comma does (three digits follow, not after a lone 0),
# and there it stays for the thousands rule below (1{,}000 is 1000); in the mantissa of scientific notation (one
# digit before it, \times 10^k after) it is decimal even before three digits, since 1357 \times 10^3 would not be
# written 1{,}357 \times 10^3. A braced comma of a longer run of groups (1{,}234{,}567) is left to the thousands rule.
_BRACED_COMMA = re.compile(r"(?<![\w.,}])(\d+)\{\s*,\s*\}(\d+)(?![\w{])(\s*\\(?:times|cdot)\s*10\s*\^)?")


def _braced_decimal_comma(m: re.Match) -> str:
  whole, fraction, times = m.group(1), m.group(2), m.group(3) or ""
  if len(fraction) == 3 and whole[0] != "0" and not (times and len(whole) == 1):
    return m.group()
  return f"{whole}.{fraction}{times}"


def normalize(answer: str, *, gold: bool = False) -> tuple[str, bool]:
  """A canonical answer string and whether it carried a percent sign.

  Predictions are untrusted and normalised strictly: only formatting, known unit words, a trailing
  "\\approx ..." and the sign word of a lone number ("minus 6" is -6) go; any other word stays and makes the parse
  fail ("not 5", "5 thousand"). Gold strings (`gold=True`) are trusted and also lose words beside a number
  ("17\\text{ any text}").
  """
  s = unicodedata.normalize("NFC", answer).translate(_FULLWIDTH_ASCII).strip()
  for _ in range(3):  # \boxed{\boxed{5}} and $\boxed{5}$
    s = s.strip().strip("$").strip()
    inner = last_boxed(s) if s.startswith(_BOX_NAMES) else None
    if inner is None:
      break
    s = inner
  s = _SUPERSCRIPT_RUN.sub(lambda m: "^{" + m.group().translate(_SUPERSCRIPT_ASCII) + "}", s)  # 10\u207b\u2078: 10^{-8}
  s = _RADICAL_DIGITS.sub(r"\\sqrt{\1}", s)  # \u221a16 is \sqrt{16}, not \sqrt{1}6
  s = _RADICAL_LETTER.sub(r"\\sqrt{\1}", s)  # \u221ax is \sqrt{x}, not the command \sqrtx
  s = _COMBINATION.sub(lambda m: (rf"\binom{{{m.group(1)}}}{{{m.group(3)}}}" if m.group(2) == "C"
                                  else f"nPr({m.group(1)}, {m.group(3)})"), s)  # 5C3 is \binom{5}{3}, not 15C
  s = _SQRT_DIGITS.sub(r"\\sqrt{\1}", s)  # 8sqrt3 is 8\sqrt{3}
  s = _VULGAR_FRACTION.sub(lambda m: r"\frac{%d}{%d}" % _VULGAR[m.group(1)], s)  # \u00bd is \frac{1}{2}
  s = _ASCII_PLUS_MINUS.sub(r"\1\\pm ", s.replace("+/-", "\\pm "))  # +-5 is \pm 5
  for k, v in _UNICODE.items():
    s = s.replace(k, v)
  s = _TIMES_TEN.sub(r"\1 \\times ", s)  # 3x10^8 is 3 \times 10^8
  # markdown bold and italics: **131**, _120_; a ** after a value is Python's power (sin(x)**2 + cos(x)**2)
  s = re.sub(r"(?<![\w)\]}])\*\*(.+?)\*\*", r"\1", s).strip().strip("_").strip()
  s = s.replace("**", "^")  # Python's power: (rho+g)**2
  s = re.sub(r"(?<![<>!=])==(?!=)", "=", s)  # Python's equality: x**2 + 1 == 0
  s = _CAPITAL_FUNCTION.sub(lambda m: m.group().lower(), s)  # calculator and spreadsheet names: 4*SQRT(3), LN(2)
  s = re.sub(r"(?<![\\a-zA-Z])sqrt\s*(?=[({])", r"\\sqrt", s)  # sqrt(8) written without its backslash
  s = _DERIVATIVE_LABEL.sub(lambda m: f"{m.group(1)}_{{prime{len(m.group(2))}}}", s)  # f'(x) = 2x: f_{prime1}(x) = 2x
  approx = re.split(r"\\approx|\\simeq|\u2248", s, maxsplit=1)
  if len(approx) == 2:  # "\frac{\sqrt3}{3} \approx 0.577": the exact value; "x \approx 11": the value
    s = approx[1] if _NAME.fullmatch(approx[0].strip()) else approx[0]
  s = re.sub(r"(\d),\\!\s*(?=\d{3}(?!\d))", r"\1", s)  # 32,\!349 is 32349
  s = _BRACED_COMMA.sub(_braced_decimal_comma, s)  # 3{,}5 is 3.5; 1{,}000 stays 1000 (below)
  s = re.sub(r"(?<=\d)\\[,;:](?=\d)(?!\d{3}(?!\d))", " ", s)  # 0\,42 is two numbers; 1\,000 is one (below)
  s = re.sub(r"(?<!\\)\{([1-9]\d{0,2}(?:,\d{3})+)\}", lambda m: m.group().replace(",", ""), s)  # \frac{945}{16,384}
  s = _DELIMITERS.sub(_delimiter_replacement, s)
  s = re.sub(r"\\(?:left|right)\s*\.", "", s)
  s = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)[lr]?(?![a-zA-Z])", "", s)
  s = re.sub(r"\\[dtc]frac(?![a-zA-Z])", r"\\frac", s)
  s = re.sub(r"\\[dt]binom(?![a-zA-Z])", r"\\binom", s)
  s = re.sub(r"\\operatorname\s*\{([a-zA-Z]+)\}", r"\\\1", s)
  s = re.sub(r"\\overrightarrow(?![a-zA-Z])", r"\\vec", s)  # two spellings of one vector arrow
  s = re.sub(r"\\(?:wedge|land)(?![a-zA-Z])", ",", s)  # a conjunction of conditions is the list of them
  s = _trig_degrees(s)
  s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree|\u00b0", "", s)
  percent = "%" in s
  s = s.replace("\\%", "").replace("%", "")
  s = _replace_text_commands(s, lenient=gold)
  s = re.sub(r"\s+", " ", s).strip()
  for _ in range(2):
    s = _TRAILING_UNIT.sub("", s).strip()
  s = _INNER_UNIT.sub("", s)
  if gold:  # a trusted gold loses plain words after its number: "18 ways"
    s = re.sub(r"(?<=\d)\s+[A-Za-z]{3,}(?:\s+[A-Za-z]{3,}){0,3}$", "", s)
  # the percent words, and pct glued to its number (25pct is 25 pct)
  if re.search(r"(?:\b(?:percent|percentage|pct)|(?<=\d)pct)\b", answer, re.IGNORECASE):
    percent = True
    s = re.sub(r"\s*(?:\b(?:percentage|pct)|(?<=\d)pct)\b\.?$", "", s, flags=re.IGNORECASE)
  s = re.sub(r"\s+(?:or|and)\s+|(?<=[)\]}])\s*(?:or|and)\s*(?=[(\[{\\])", ",", s)
  s = re.sub(r",(?:\s*,)+", ",", s)  # "7, -2, \text{ and } -5"
  s = re.sub(r"([)\]])\s*U\s*([(\[])", r"\1\\cup \2", s)
  s = re.sub(r"(\d)\s*\{\s*,\s*\}\s*(?=\d{3}(?!\d))", r"\1", s)
  s = re.sub(r"(?<!\\)\\$", "", s)  # a stray trailing backslash ("185\\")
  s = _drop_unevaluated_sides(s)
  s = re.sub(r"^\\([a-zA-Z])\s*=(?!=)", r"\1 =", s)  # "\\k = 5": a one-letter command naming the answer
  s = s.rstrip(".,; ").lstrip("=").strip()
  spoken = _SPOKEN_SIGN.fullmatch(s)
  if spoken:  # "minus 6" is -6
    s = "-" + spoken.group(1)
  s = _GLUED_UNIT.sub(r"\1", s)  # "12cm" is 12 on either side; _prepare refuses 12 mm and 12 for a gold's 12cm
  mixed = _MIXED_NUMBER.fullmatch(s)
  if mixed and int(mixed.group(3)) < int(mixed.group(4)):  # 2 1/2 is 5/2, 1 000 4/9 is 9004/9
    whole, num, den = int(mixed.group(2).replace(" ", "")), int(mixed.group(3)), int(mixed.group(4))
    s = f"{mixed.group(1)}\\frac{{{whole * den + num}}}{{{den}}}"
  if _DOTTED_THOUSANDS.fullmatch(s):  # 1.000.000: two or more groups of three after dots are thousands
    s = s.replace(".", "")
  elif _THOUSANDS.fullmatch(s):
    s = s.replace(",", "")
  elif _SPACED_THOUSANDS.fullmatch(s) or _SPACED_DECIMALS.fullmatch(s):  # 12 345.678 9 is 12345.6789; 1,234 5
    s = s.replace(" ", "")                                                  # becomes 1,2345, a decimal comma
  elif "=" in s:
    s = "=".join(_side_thousands(side) for side in _equals_sides(s))
  return s, percent


_INNER_THOUSANDS = re.compile(r"(?<![\w.,])[1-9]\d{0,2}(?:,\d{3})+(?![\w,]|\.\d)")


def _side_thousands(side: str) -> str:
  """One side of an equation with its thousands separators dropped (y = 250 x + 2,500 is y = 250 x + 2500), when
  they are its only commas (a side holding a tuple or a list keeps its commas)."""
  dropped = _INNER_THOUSANDS.sub(lambda m: m.group().replace(",", ""), side)
  return side if "," in dropped else dropped


# ---------------------------------------------------------------------------------------------------------------
# The in-process fast path

_PLAIN = re.compile(r"([-+]?)(\d+(?:\.\d*)?|\.\d+)")
_SLASH = re.compile(r"([-+]?)(\d+)\s*/\s*(\d+)")
_LATEX_FRAC = re.compile(r"([-+]?)\\frac\s*\{\s*([-+]?)(\d+)\s*\}\s*\{\s*(\d+)\s*\}")
_ASSIGNMENT = re.compile(r"[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\s*=\s*([^=<>]+)")
_WORDS = re.compile(r"[a-zA-Z][a-zA-Z ]*")
_NAME = re.compile(r"[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?")


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


def decimal_places(q) -> int | None:
  """Digits after the point of a rational's finite decimal expansion (3/8 = 0.375: 3), or None when it has none
  (1/3). `q` is a Fraction or anything with integer `numerator` / `denominator`-like `p` and `q`."""
  den = int(q.denominator if hasattr(q, "denominator") else q.q)
  twos = fives = 0
  while den % 2 == 0:
    den //= 2
    twos += 1
  while den % 5 == 0:
    den //= 5
    fives += 1
  return max(twos, fives) if den == 1 else None


def rounds_to(decimal: Fraction, scaled_exact) -> bool:
  """Whether `decimal`, a number written with a decimal point and d (at least 1, at most MAX_ROUNDED_DECIMALS)
  digits after it, showing at least MIN_SIGNIFICANT_DIGITS significant digits, is a value rounded half up or
  truncated to d decimals. `scaled_exact(d)` gives that value times 10^d (a Fraction, or a real sympy number
  evaluated well past d digits), or None when it cannot."""
  digits = decimal_places(decimal)
  if digits is None or digits > MAX_ROUNDED_DECIMALS:
    return False
  digits = max(digits, 1)  # a decimal point was written: 3142.0 shows one decimal (1000 pi is 3141.6 there)
  scaled = decimal * 10**digits
  if len(str(abs(int(scaled))).lstrip("0")) < MIN_SIGNIFICANT_DIGITS:
    return False
  value = scaled_exact(digits)
  if value is None:
    return False
  sign = 1 if value >= 0 else -1
  return scaled in (sign * int(abs(value)), sign * int(abs(value) + Fraction(1, 2)))


def numbers_close(a: Fraction, b: Fraction, inexact: bool) -> bool:
  """Exact equality; when a decimal was involved and one side has no finite decimal expansion (1/3 against
  0.3333333), |a - b| <= 1e-6 * min(1, max(|a|, |b|)) (six decimals, relative below 1), or the decimal side is the
  other number rounded or truncated to its digits (rounds_to: 2.6667 for 8/3). A decimal never approximates a
  number it could have written exactly: 1000001.0 is not 1000000, 4.9999999 is not 5."""
  if a == b:
    return True
  if not inexact or (decimal_places(a) is not None and decimal_places(b) is not None):
    return False
  if abs(a - b) <= INEXACT_RTOL * min(1, max(abs(a), abs(b))):
    return True
  decimal, exact = (a, b) if decimal_places(a) is not None else (b, a)
  return rounds_to(decimal, lambda digits: exact * 10**digits)


_DECIMAL_COMMA = re.compile(r"([-+]?\d+),(\d+)")


def _decimal_comma(s: str) -> str | None:
  """"1,22" / "0,111" / "1000,99" read with a decimal comma, when the comma cannot be a thousands separator."""
  m = _DECIMAL_COMMA.fullmatch(s)
  if m is None or (len(m.group(2)) == 3 and m.group(1).lstrip("+-")[:1] not in ("0", "")):
    return None
  return f"{m.group(1)}.{m.group(2)}"


def _squeeze(s: str) -> str:
  """Whitespace removed except between two word characters ("1 2" stays two tokens, "( 1, 2 )" is "(1,2)")."""
  return re.sub(r"(?<!\w)\s+|\s+(?!\w)", "", s)


def _words_key(text: str) -> str:
  """A word answer compared as text: lower case, single spaces, without a leading article ("the derivative" and
  "derivative" are one answer)."""
  return re.sub(r"^(?:the|an?)\s+(?=[a-z]{2})", "", " ".join(text.lower().split()))


def _fast_judge(gold: str, gold_pct: bool, pred: str, pred_pct: bool) -> bool | None:
  """Decide cheap cases in-process; None when sympy is needed."""
  if _squeeze(gold) == _squeeze(pred) and (gold_pct or not pred_pct):
    return True
  if _WORDS.fullmatch(gold) and (re.search(r"[a-zA-Z]{3}|\s", gold) or gold.lower() == "no"):  # "odd", "Yes"
    return _words_key(gold) == _words_key(pred)
  if "=" not in gold:  # "x = 5" answers the plain gold "5"
    m = _ASSIGNMENT.fullmatch(pred)
    if m:
      pred = m.group(1).strip()
  g, p = plain_number(gold), plain_number(pred)
  if g is not None and p is None and _decimal_comma(pred):
    p = plain_number(_decimal_comma(pred))
  if p is not None and g is None and _decimal_comma(gold):
    g = plain_number(_decimal_comma(gold))
  if g is None or p is None:
    return None
  inexact = g[1] or p[1]
  candidates = [(g[0], p[0])] if gold_pct or not pred_pct else []  # 4 4/9% is 4/90, never 40/9 (see judge)
  if gold_pct:
    candidates.append((g[0] / 100, p[0]))
  if pred_pct:
    candidates.append((g[0], p[0] / 100))
  return any(numbers_close(a, b, inexact) for a, b in candidates)


# ---------------------------------------------------------------------------------------------------------------
# Scoring


def configure(num_workers: int | None = None, timeout: float | None = None, batch_timeout: float | None = None,
              cache_size: int | None = None, first_timeout: float | None = None):
  """Change the worker count, the per-item hard timeout (s), the per-call bound (s), the cache size, or the
  round-one budget per item (s; see r1jax.rewards._pool)."""
  global _pool_instance
  with _lock:
    if num_workers is not None and num_workers != _config["num_workers"]:
      if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
      _config["num_workers"] = num_workers
      if _pool_instance is not None:
        _pool_instance.close()
        _pool_instance = None
    for key, value in (("timeout", timeout), ("batch_timeout", batch_timeout), ("cache_size", cache_size),
                       ("first_timeout", first_timeout)):
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
  """Forget cached verdicts, cached timeouts and known-slow answers (for benchmarks)."""
  with _lock:
    _cache.clear()
    _slow.clear()


def counters() -> dict:
  """Cumulative outcome counts since import: fast, cached, pooled, no_answer, parse_failures, timeouts, batch_cap,
  errors."""
  with _lock:
    return dict(_counters)


def _status_counts(statuses: list[str]) -> dict:
  """Per-call stats from per-item statuses."""
  groups = {
      "no_answer": ("no_answer", "no_gold"),
      "parse_failures": ("parse_error", "gold_parse_error", "too_long"),
      "timeouts": ("timeout", "batch_cap"),
      "batch_cap": ("batch_cap",),
      "errors": ("error", "worker_error"),
  }
  stats = {name: sum(s in members for s in statuses) for name, members in groups.items()}
  stats["gold_failures"] = sum(s in ("no_gold", "gold_parse_error") for s in statuses)
  return stats


# Spellings of one unit (lower case, without a plural s) that name it the same way.
_UNIT_ALIASES = {
    "centimeter": "cm", "centimetre": "cm", "millimeter": "mm", "millimetre": "mm", "meter": "m", "metre": "m",
    "kilometer": "km", "kilometre": "km", "gram": "g", "kilogram": "kg", "milligram": "mg", "liter": "l", "litre": "l",
    "milliliter": "ml", "millilitre": "ml", "second": "s", "sec": "s", "minute": "min", "hour": "h", "hr": "h",
    "inch": "in", "foot": "ft", "feet": "ft", "yard": "yd", "mile": "mi", "gallon": "gal", "pound": "lb",
    "ounce": "oz", "degree": "deg", "unit": "unit", "inche": "in", "hrs": "h", "mins": "min", "secs": "s",
    "lbs": "lb", "yds": "yd", "kms": "km", "cms": "cm", "mms": "mm", "kgs": "kg"}


# A known unit written as plain text after a number, spaced or glued: "2 cm", "2cm", "5 hours" (not "x \\in").
_PLAIN_UNIT = re.compile(
    rf"(?<=\d)\s*((?:sq\.?\s+|square\s+|cubic\s+)?(?:{_UNITS}))(?:\s*\^\s*\{{?([23])\}}?)?(?![A-Za-z])", re.IGNORECASE)


def _unit_key(content: str, power: str) -> str:
  """One spelling of a unit: lower case, singular, abbreviated ("Centimeters" and "cm" are "cm"), with its power."""
  words = content.lower().split()
  words[-1] = words[-1][:-1] if len(words[-1]) > 3 and words[-1].endswith("s") else words[-1]
  words[-1] = _UNIT_ALIASES.get(words[-1], words[-1])
  return " ".join(words) + (f"^{power}" if power else "")


def _unit_words(answer: str) -> tuple[str, ...]:
  """The units and labels an answer writes after its values, in \\text{...} / \\mathrm{...} or as plain known unit
  words (with their powers), each in one spelling, sorted: "3.5 \\text{ gallons}" gives ("gal",), "2cm" and
  "2 centimeters" give ("cm",). Empty when it writes none."""
  found = [_unit_key(m.group(1), m.group(2) or "")
           for m in _PLAIN_UNIT.finditer(_TEXT_CMD.sub(" ", answer[:MAX_ANSWER_CHARS]))]
  for m in _TEXT_CMD.finditer(answer[:MAX_ANSWER_CHARS]):
    content = m.group(1).strip().rstrip(".").lower()
    label = _is_label_after_value(content, answer[:m.start()], "") or (
      len(content) == 1 and content.isalpha() and re.search(r"[\d)\]}]\s*$", answer[:m.start()]))
    if not content or not (_UNIT_WORD.match(content) or label):
      continue
    found.append(_unit_key(content, re.sub(r"\D", "", m.group(2) or "")))
  return tuple(sorted(found))


def _without_one_letter_unit(answer: str, units: tuple[str, ...]) -> str:
  """The number of an answer "3 m" / "5g" whose one-letter unit abbreviation is the unit the other side names
  (`units`, as _unit_words gives them); the answer unchanged otherwise (3 m stays the product 3m, a formula)."""
  m = _ONE_LETTER_UNIT.fullmatch(answer.strip().strip("$").strip())
  return m.group(1) if m and units == (_unit_key(m.group(2), ""),) else answer


def _same_text(text: str, gold: str) -> bool:
  """Whether a completion is the gold's own text (spacing aside), a gold without think or answer tags: it then
  says exactly what the gold says, however little of it extraction could read as math."""
  if len(text) > 2 * MAX_ANSWER_CHARS or re.search(r"</?(?:think|answer)>", gold):
    return False
  return bool(gold.strip()) and " ".join(text.split()) == " ".join(gold.split())


def _prepare(text: str, gold: str):
  """Extract and normalise one pair: ("done", correct, status) or ("pool", key)."""
  gold_answer = extract_gold(gold)
  if gold_answer is None:
    return "done", False, "no_gold"
  if _same_text(text, gold):  # "odd $n$" answers "odd $n$", whatever extraction would pick out of either
    return "done", True, "fast"
  answer = extract_answer(text)
  if answer is None or not answer.strip():
    return "done", False, "no_answer"
  if len(answer) > MAX_ANSWER_CHARS:
    return "done", False, "too_long"
  gold_units, units = _unit_words(gold_answer), _unit_words(answer)
  if gold_units and not units:  # "3 m" for "3 meters": a one-letter abbreviation of the unit the gold names
    answer = _without_one_letter_unit(answer, gold_units)
  elif units and not gold_units:
    gold_answer = _without_one_letter_unit(gold_answer, units)
  if gold_units and units and gold_units != units:  # 3.5 \text{L} does not answer 3.5 \text{gal}
    return "done", False, "fast"
  if gold_units and not units and _GLUED_UNIT.fullmatch(gold_answer.strip().strip("$").strip()):
    return "done", False, "fast"  # a gold that glues its unit ("10cm") asks for it: 10 cm answers, 10 does not
  g, g_pct = normalize(gold_answer, gold=True)
  p, p_pct = normalize(answer)
  if not p:
    return "done", False, "no_answer"
  verdict = _fast_judge(g, g_pct, p, p_pct)
  if verdict is not None:
    return "done", verdict, "fast"
  return "pool", (g, p, g_pct, p_pct)


def _remember(store: collections.OrderedDict, key, value):
  store[key] = value
  store.move_to_end(key)
  if len(store) > _config["cache_size"]:
    store.popitem(last=False)


def score(completions: list[str], golds: list[str], prefill: str | list[str] = "") -> tuple[list[float], dict]:
  """Rewards 1.0 / 0.0 per completion and the call's stats.

  stats: counts of no_answer, parse_failures, timeouts (items that overran their own time limit, `batch_cap`
  included), batch_cap (items the per-call cap left unjudged; each had already overrun its round-one budget, see
  r1jax.rewards._pool), errors, gold_failures, and how items were decided: fast / cached / pooled.
  """
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
                                  batch_timeout=_config["batch_timeout"], first_timeout=_config["first_timeout"],
                                  known_slow=[j for j, k in enumerate(keys) if k in _slow],
                                  cost=lambda j: len(keys[j][1]))
      except OSError as e:  # workers cannot be started (no processes or file descriptors left): score 0, count it
        _log.warning("math reward workers unavailable: %s", e)
        results = [(None, "worker_error")] * len(keys)
      for key, (value, status) in zip(keys, results):
        verdict = bool(value) if status in _CACHEABLE else False
        if status in _CACHEABLE:  # a timeout is cached too: a repeated slow answer costs nothing the next time
          _remember(_cache, key, (verdict, status))
        elif status == "batch_cap":  # slow, but not judged in full: next time it skips round one
          _remember(_slow, key, True)
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
