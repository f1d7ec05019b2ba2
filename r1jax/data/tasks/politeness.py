"""A synthetic "unverifiable" task: short requests whose replies are judged by tone, not by a checkable answer.

It stands in for writing / chat prompts in the tiny recipe: no rule reward applies, so a reward model learnt from
preference pairs judges them. Every reply is `opener + content + closer`; the tone of the opener and the closer
is polite (+1), neutral (0) or rude (-1), and a reply's hidden quality is their sum (`tone_score`). A preference
pair holds two replies to the same request with the same content and different quality; the better one is chosen.
Short enough for the built-in character tokenizer and a tiny model to learn in a minute on CPU.

    request (question):  "What is 12 + 7?"
    chosen:              "Sure! 12 + 7 is 19. Hope this helps!"          (quality 2)
    rejected:            "Ugh. 12 + 7 is 19."                             (quality -1)

Rows of the task (`load`): "question", "gold" ("": there is nothing to verify), "prompt_type" ("chat").
Rows of the preference data (`pairs`): "prompt", "chosen", "rejected", "chosen_quality", "rejected_quality".
Train and test never share a request.
"""

from __future__ import annotations

import random
import re

import datasets

from r1jax.data.tasks import common

NAME = "politeness"
PROMPT_TYPE = "chat"
OPENERS = {1: ("Sure! ", "Of course. ", "Happy to help! ", "Gladly. "), 0: ("", "OK. ", "Well, "),
           -1: ("Ugh. ", "Fine. ", "Whatever. ", "Obviously, ")}
CLOSERS = {1: (" Hope this helps!", " Have a nice day!", " Thanks for asking."), 0: ("", " That is all."),
           -1: (" Now go away.", " Stop asking.", " Do not bother me again.")}
_WORDS = ("cat", "tree", "lamp", "river", "stone", "cloud", "bread", "chair", "apple", "ship", "road", "bird")


def make_request(rng: random.Random) -> tuple[str, str]:
  """(request, content of a reply to it): a sum, a comparison or a spelling, with random operands."""
  kind = rng.randrange(3)
  a, b = rng.randint(1, 99), rng.randint(1, 99)
  if kind == 0:
    request = f"What is {a} + {b}?"
  elif kind == 1:
    request = f"Which is bigger, {a} or {b}?"
  else:
    request = f"Spell {rng.choice(_WORDS)} {a % 3 + 2} times."
  return request, content_of(request)


def content_of(request: str) -> str:
  """The content of a reply to one of `make_request`'s requests ("12 + 7 is 19.")."""
  if m := re.fullmatch(r"What is (\d+) \+ (\d+)\?", request):
    a, b = int(m[1]), int(m[2])
    return f"{a} + {b} is {a + b}."
  if m := re.fullmatch(r"Which is bigger, (\d+) or (\d+)\?", request):
    a, b = int(m[1]), int(m[2])
    return f"{max(a, b)} is bigger." if a != b else "They are equal."
  if m := re.fullmatch(r"Spell (\w+) (\d+) times\.", request):
    return " ".join([m[1]] * int(m[2])) + "."
  raise ValueError(f"not a request of the politeness task: {request!r}")


def reply(rng: random.Random, content: str, opener_tone: int, closer_tone: int) -> str:
  """A reply with the given content and tones (each -1, 0 or +1)."""
  return rng.choice(OPENERS[opener_tone]) + content + rng.choice(CLOSERS[closer_tone])


def tone_score(text: str) -> int:
  """The hidden quality of a reply: opener tone + closer tone (phrases of other replies count 0)."""
  opener = next((t for t, phrases in OPENERS.items() for p in phrases if p and text.startswith(p)), 0)
  closer = next((t for t, phrases in CLOSERS.items() for p in phrases if p and text.endswith(p)), 0)
  return opener + closer


def load(split: str = "train", n: int | None = None, seed: int = 0, *,
         test_fraction: float = common.DEFAULT_TEST_FRACTION) -> datasets.Dataset:
  """`n` requests of `split` as task rows: "question", "gold" (empty), "prompt_type" ("chat")."""

  def make(rng):
    request, _ = make_request(rng)
    return {"question": request, "gold": "", "prompt_type": PROMPT_TYPE}

  return common.generate_unique(NAME, split, n, seed, make, lambda row: row["question"], test_fraction)


def pairs(split: str = "train", n: int | None = None, seed: int = 0, *,
          test_fraction: float = common.DEFAULT_TEST_FRACTION) -> datasets.Dataset:
  """`n` preference pairs of `split` (one per request): two tones of the same content, the better one chosen."""

  def make(rng):
    request, content = make_request(rng)
    tones = [(o, c) for o in (-1, 0, 1) for c in (-1, 0, 1)]
    first = rng.choice(tones)
    second = rng.choice([t for t in tones if sum(t) != sum(first)])
    better, worse = (first, second) if sum(first) > sum(second) else (second, first)
    return {"prompt": request, "chosen": reply(rng, content, *better), "rejected": reply(rng, content, *worse),
            "chosen_quality": sum(better), "rejected_quality": sum(worse)}

  # The same split key as `load`: a request held out of the preference data is held out of the task too.
  return common.generate_unique(f"{NAME}_pairs", split, n, seed, make, lambda row: row["prompt"], test_fraction)
