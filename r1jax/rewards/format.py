"""Format rewards for the R1 answer layout `<think> reasoning </think> <answer> answer </answer>`.

    from r1jax.rewards import format
    format.think_answer_reward(["<think>2+3=5</think> <answer>5</answer>"])      # [1.0]
    format.think_answer_reward(["2+3=5</think><answer>5</answer>"], prefill="<think>")   # [1.0]: the template
                                                                                         # opened <think>
    format.think_answer_soft_reward(completions)   # the two blocks in order, anything around them allowed
    format.tag_count_reward(completions)           # 0.25 per well-placed tag

Every reward judges `prefill + completion`. All checks are plain substring scans (linear in the text, no regex
backtracking), so megabyte completions cost milliseconds.
"""

from __future__ import annotations

from r1jax.rewards import _text

THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE = "<think>", "</think>", "<answer>", "</answer>"
_TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)


def is_strict_format(text: str) -> bool:
  """`<think>...</think>` then `<answer>...</answer>` and nothing else but whitespace, each tag exactly once,
  and a non-empty answer."""
  if any(text.count(tag) != 1 for tag in _TAGS):
    return False
  t_open, t_close = text.find(THINK_OPEN), text.find(THINK_CLOSE)
  a_open, a_close = text.find(ANSWER_OPEN), text.find(ANSWER_CLOSE)
  if not t_open < t_close < a_open < a_close:
    return False
  return (not text[:t_open].strip() and not text[t_close + len(THINK_CLOSE):a_open].strip()
          and not text[a_close + len(ANSWER_CLOSE):].strip() and bool(text[a_open + len(ANSWER_OPEN):a_close].strip()))


def is_soft_format(text: str) -> bool:
  """A `<think>...</think>` block followed by an `<answer>...</answer>` block, other text allowed around them."""
  t_open = text.find(THINK_OPEN)
  t_close = text.find(THINK_CLOSE, t_open + 1) if t_open >= 0 else -1
  a_open = text.find(ANSWER_OPEN, t_close + 1) if t_close >= 0 else -1
  a_close = text.find(ANSWER_CLOSE, a_open + 1) if a_open >= 0 else -1
  return a_close >= 0


def tag_score(text: str) -> float:
  """0.25 for each tag that appears exactly once and in its place ("after X" requires X to be there):

    <think>    first thing in the text            </think>   after <think>
    <answer>   after </think>                     </answer>  after <answer> and last thing in the text
  """
  counts = {tag: text.count(tag) for tag in _TAGS}
  pos = {tag: text.find(tag) for tag in _TAGS}
  score = 0.0
  if counts[THINK_OPEN] == 1 and not text[:pos[THINK_OPEN]].strip():
    score += 0.25
  if counts[THINK_CLOSE] == 1 and 0 <= pos[THINK_OPEN] < pos[THINK_CLOSE]:
    score += 0.25
  if counts[ANSWER_OPEN] == 1 and 0 <= pos[THINK_CLOSE] < pos[ANSWER_OPEN]:
    score += 0.25
  if (counts[ANSWER_CLOSE] == 1 and pos[ANSWER_OPEN] < pos[ANSWER_CLOSE]
      and not text[pos[ANSWER_CLOSE] + len(ANSWER_CLOSE):].strip()):
    score += 0.25
  return score


def think_answer_reward(completions: list[str], prefill: str | list[str] = "") -> list[float]:
  """1.0 iff `prefill + completion` is exactly <think>…</think><answer>…</answer> (whitespace allowed between)."""
  return [1.0 if is_strict_format(t) else 0.0 for t in _text.with_prefill(completions, prefill)]


def think_answer_soft_reward(completions: list[str], prefill: str | list[str] = "") -> list[float]:
  """1.0 iff a think block precedes an answer block somewhere in `prefill + completion`."""
  return [1.0 if is_soft_format(t) else 0.0 for t in _text.with_prefill(completions, prefill)]


def tag_count_reward(completions: list[str], prefill: str | list[str] = "") -> list[float]:
  """Partial format credit in [0, 1]: 0.25 per well-placed tag (see `tag_score`)."""
  return [tag_score(t) for t in _text.with_prefill(completions, prefill)]


tag_count = tag_count_reward
