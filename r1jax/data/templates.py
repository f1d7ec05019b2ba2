"""Prompt templates: turn a task row into the text the policy sees.

Every template returns a `Prompt`: the full prompt string and its `prefill`, the tail of the prompt that already
belongs to the answer (e.g. "<think>" when the template opens the reasoning block for the model). Rewards judge
`prefill + completion`, so a completion that correctly continues a prefilled "<think>" earns full format credit.

    p = render("r1_zero", {"question": "What is 2 + 3?"})
    p.prompt   # "A conversation between User and Assistant. ... User: What is 2 + 3?. Assistant: <think>"
    p.prefill  # "<think>"

Templates are looked up by name in `TEMPLATES`; `templates.register("name", fn)` adds one (a notebook cell too):
`fn(example, tokenizer=None, **options) -> Prompt`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

from r1jax.registry import Registry, registrar


@dataclasses.dataclass(frozen=True)
class Prompt:
  """A rendered prompt. `prefill` is a suffix of `prompt`; the reward judges `prefill + completion`."""

  prompt: str
  prefill: str = ""

  def __post_init__(self):
    if not self.prompt.endswith(self.prefill):
      raise ValueError(f"prefill {self.prefill!r} is not a suffix of the prompt {self.prompt[-80:]!r}")

  def judged(self, completion: str) -> str:
    """The text a reward scores for `completion`: the prefill followed by the completion."""
    return self.prefill + completion

  @property
  def context(self) -> str:
    """The prompt before its prefill: `context + judged(completion)` is the whole text."""
    return self.prompt[:len(self.prompt) - len(self.prefill)]


# DeepSeek-R1 (2025), Table 1: the R1-Zero training template. "{question}" is the paper's "prompt" slot; the
# period after it and the closing "Assistant:" are the paper's.
R1_ZERO = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
    "User: {question}. Assistant:")

# The same contract in a few characters, for small character-level models whose context is precious.
R1_ZERO_SHORT = "User: {question}\nAssistant:"

# TinyZero's countdown prompt for base models (the "base" template), reproduced because results on countdown are
# compared against it.
COUNTDOWN = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with the answer.\n"
    "User: Using the numbers {numbers}, create an equation that equals {target}. You can use basic arithmetic "
    "operations (+, -, *, /) and each number can only be used once. Show your work in <think> </think> tags. "
    "And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>.\n"
    "Assistant: Let me solve this step by step.\n<think>")

THINK = "<think>"


def _field(example: Mapping[str, Any], name: str, template: str) -> Any:
  """`example[name]`, or an error naming the template and the missing field."""
  if name not in example:
    raise KeyError(f"template {template!r} needs field {name!r}; the example has {sorted(example)}")
  return example[name]


def r1_zero(example: Mapping[str, Any], tokenizer=None, *, prefill_think: bool = True) -> Prompt:
  """The R1-Zero template. With `prefill_think` the prompt ends "Assistant: <think>" (prefill "<think>")."""
  del tokenizer
  # The template's own period closes the question; a question's final period is not doubled ("22.. Assistant").
  question = str(_field(example, "question", "r1_zero")).rstrip()
  question = question[:-1] if question.endswith(".") else question
  prompt = R1_ZERO.format(question=question)
  if not prefill_think:
    return Prompt(prompt, "")
  return Prompt(prompt + " " + THINK, THINK)


def r1_zero_no_prefill(example: Mapping[str, Any], tokenizer=None) -> Prompt:
  """The R1-Zero template exactly as in the paper: the prompt ends with "Assistant:" and nothing is prefilled."""
  return r1_zero(example, tokenizer, prefill_think=False)


def r1_zero_short(example: Mapping[str, Any], tokenizer=None, *, prefill_think: bool = True) -> Prompt:
  """"User: {question}\\nAssistant: <think>" -- the R1-Zero format contract without the long instructions.

  Without `prefill_think` the prompt is "User: {question}\\nAssistant: " (the same text up to "<think>"): the model
  writes "<think>" itself, or answers without it, as a base model trained on "Assistant: {answer}" text does.
  """
  del tokenizer
  prompt = R1_ZERO_SHORT.format(question=_field(example, "question", "r1_zero_short")) + " "
  return Prompt(prompt + THINK, THINK) if prefill_think else Prompt(prompt, "")


def countdown(example: Mapping[str, Any], tokenizer=None) -> Prompt:
  """TinyZero's countdown template, from the row's "numbers" and "target"; it ends with a prefilled "<think>"."""
  del tokenizer
  numbers = [int(x) for x in _field(example, "numbers", "countdown")]
  target = int(_field(example, "target", "countdown"))
  return Prompt(COUNTDOWN.format(numbers=numbers, target=target), THINK)


def chat(example: Mapping[str, Any], tokenizer=None, *, system: str | None = None, suffix: str = "",
         prefill: str = "", **chat_template_kwargs: Any) -> Prompt:
  """The tokenizer's own chat template (instruct models) with the generation prompt added.

  `suffix` is appended to the question (e.g. "Please reason step by step, and put your final answer within
  \\boxed{}."), `prefill` to the rendered prompt. When the chat template itself already opens a "<think>" block
  (as DeepSeek-R1 distilled models' templates do), that opening becomes the prefill. Extra keyword arguments go to
  `apply_chat_template` (e.g. `enable_thinking=False` for Qwen3).
  """
  if tokenizer is None:
    raise ValueError("template 'chat' needs a tokenizer (it renders the tokenizer's chat template)")
  if getattr(tokenizer, "chat_template", None) is None:
    raise ValueError(f"template 'chat': tokenizer {getattr(tokenizer, 'name_or_path', '')!r} has no chat template")
  question = str(_field(example, "question", "chat"))
  if suffix:
    question = f"{question} {suffix}"
  messages = ([{"role": "system", "content": system}] if system is not None else [])
  messages.append({"role": "user", "content": question})
  text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                       **chat_template_kwargs)
  text += prefill
  return Prompt(text, _think_prefill(text) or prefill)


def _think_prefill(text: str) -> str:
  """The trailing "<think>..." of `text` when the prompt ends inside an opened, unclosed, empty think block."""
  start = text.rfind(THINK)
  if start < 0 or text[start + len(THINK):].strip():
    return ""
  return text[start:]


TEMPLATES: Registry[Callable[..., Prompt]] = Registry("template", {
    "r1_zero": r1_zero,
    "r1_zero_no_prefill": r1_zero_no_prefill,
    "r1_zero_short": r1_zero_short,
    "countdown": countdown,
    "chat": chat,
})
register = registrar(TEMPLATES)


def get(name: str) -> Callable[..., Prompt]:
  """The template function registered under `name`; an unknown name lists the valid ones."""
  return TEMPLATES[name]


def render(name: str, example: Mapping[str, Any], tokenizer=None, **options: Any) -> Prompt:
  """Renders one task row (a mapping with at least "question") with the template `name`."""
  return get(name)(example, tokenizer, **options)


def render_batch(name: str, examples: Sequence[Mapping[str, Any]], tokenizer=None, **options: Any) -> list[Prompt]:
  """`render` over a list of rows."""
  fn = get(name)
  return [fn(example, tokenizer, **options) for example in examples]


def strip_prefill(completion: str, prefill: str) -> str:
  """A reference completion (e.g. a "<think>...</think><answer>...</answer>" trace) minus the part the prompt
  already prefilled, so that `prefill + strip_prefill(trace, prefill) == trace` (leading whitespace aside).

  Used to build SFT targets for templates that prefill "<think>": the model must learn to continue after it,
  not to repeat it.
  """
  if not prefill:
    return completion
  body = completion.lstrip()
  marker = prefill.strip()
  if body.startswith(marker):
    rest = body[len(marker):]
    # A prefill like "<think>\n" already contains the whitespace the trace puts after the tag.
    trailing = prefill[len(prefill.rstrip()):]
    if trailing and rest.startswith(trailing):
      rest = rest[len(trailing):]
    return rest
  return completion
