"""String helpers shared by the rewards: the prefill join and tag scanning (linear time, no regex backtracking)."""

from __future__ import annotations


def with_prefill(completions: list[str], prefill: str | list[str] = "") -> list[str]:
  """The texts rewards judge: `prefill + completion` (the template's prefilled answer start, e.g. "<think>").

  `prefill` is one string for the whole batch or one per completion.
  """
  if isinstance(prefill, str):
    return [prefill + c for c in completions] if prefill else list(completions)
  if len(prefill) != len(completions):
    raise ValueError(f"{len(completions)} completions but {len(prefill)} prefills")
  return [p + c for p, c in zip(prefill, completions)]


def last_tag_content(text: str, tag: str) -> str | None:
  """Content of the last closed `<tag>...</tag>`, or None."""
  open_tag, close_tag = f"<{tag}>", f"</{tag}>"
  close = text.rfind(close_tag)
  if close < 0:
    return None
  start = text.rfind(open_tag, 0, close)
  if start < 0:
    return None
  return text[start + len(open_tag):close]
