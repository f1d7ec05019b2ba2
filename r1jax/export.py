"""Export a trained policy as a Hugging Face checkpoint that tokenizes and prompts exactly as r1jax trained it.

    export_pretrained(workdir / "hf", cfg, params, tokenizer, template="r1_zero_short")

    tok = AutoTokenizer.from_pretrained(workdir / "hf")          # encodes and decodes like `tokenizer`
    model = AutoModelForCausalLM.from_pretrained(workdir / "hf")   # stops on the tokens r1jax samples with
    text = tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                   tokenize=False)                 # the training prompt, byte for byte

The directory holds config.json, safetensors and generation_config.json (`hf.save_pretrained`), the tokenizer files
with a chat template made from the training template, and r1jax_template.json (the template's name, options and
prefill, so that r1jax can re-render it). Before anything is moved into place, the export loads its own tokenizer
back through `transformers.AutoTokenizer` and checks it against the training tokenizer and the training prompts;
an export that would load differently is an error, never a silent one.

Chat templates by training template (the user message is always the row's "question" column):
  r1_zero, r1_zero_no_prefill, r1_zero_short
      the template's text around the question, the prefilled "<think>" included.
  countdown
      the template's text around the countdown question "Using the numbers [3, 5, 7], create an equation that
      equals 22." (the task's "question" column), so the numbers and the target travel in the user message.
  chat
      the tokenizer's own chat template; r1jax_template.json records the system prompt, suffix and prefill r1jax
      added, which a caller passes or appends the same way.
Other question-only templates (one that renders a row from its "question" alone) get the text around the question.
The prompt chat templates take exactly one user message with `add_generation_prompt=True` and raise otherwise: the
model was trained on single-turn prompts whose generation prompt ("Assistant: <think>") is part of the template.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from r1jax import tokenizer as tokenizer_lib
from r1jax.data import batching, templates
from r1jax.models import ModelConfig, hf

TEMPLATE_FILE = "r1jax_template.json"
CHAT = "chat"

# Questions that probe a derived chat template: trailing whitespace and periods (r1_zero edits both), a newline,
# quotes, backslashes and jinja's own delimiters (all must come through as text).
_PROBE_QUESTIONS = (
    "What is 3 + 4?",
    "Compute 12 * 7.",
    "  Leading and trailing spaces, then a period.  ",
    "Two lines:\nwhat is 1 + 1?",
    'Quotes "a" and \'b\', a backslash \\ and braces {x} {{ y }} {% z %}',
)
_PROBE_COUNTDOWN = (([3, 5, 7], 22), ([10, 2, 4, 8], 34), ([99, 1], 98))

# How a template edits the question before inserting it, as jinja statements on `content` (default: verbatim).
# r1_zero drops trailing whitespace and one final period, because its own period follows the question.
_STRIP_FINAL_PERIOD = (
    "{%- set content = content.rstrip() -%}\n"
    "{%- if content.endswith('.') -%}{%- set content = content[:-1] -%}{%- endif -%}\n")
_CONTENT_EDITS = {"r1_zero": _STRIP_FINAL_PERIOD, "r1_zero_no_prefill": _STRIP_FINAL_PERIOD}


def _probe_rows(template: str) -> list[dict[str, Any]]:
  """Task rows a template can render, each with the "question" that stands for it in a chat message."""
  if template == "countdown":
    from r1jax.data.tasks import countdown

    return [{"numbers": n, "target": t, "question": countdown.question_text(n, t)} for n, t in _PROBE_COUNTDOWN]
  return [{"question": q} for q in _PROBE_QUESTIONS]


def _jinja_text(text: str) -> str:
  """A jinja expression that outputs `text` unchanged (a string literal, so no delimiter or newline is
  interpreted, and `trim_blocks`, which transformers turns on, cannot eat a newline)."""
  escaped = text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
  return '{{- "' + escaped + '" -}}'


def chat_template(template: str, tokenizer: Any, **options: Any) -> str | None:
  """A jinja chat template that renders what r1jax trained on for `template` (with `options`) from one user
  message holding the row's question: BOS first when `tokenizer` has one (r1jax prepends it to every prompt),
  then the template's text. None for "chat" (the tokenizer's own template is the training template).
  """
  if template == CHAT:
    return None
  render = templates.get(template)  # an unknown name is the registry's KeyError, not a template that needs more
  row = _probe_rows(template)[0]
  try:
    prompt = render(row, tokenizer, **options).prompt
  except KeyError as e:  # the template reads a column the question-only row lacks
    raise ValueError(f"template {template!r} cannot be exported as a chat template: it needs more of a row than "
                     f"the question ({e.args[0]})") from None
  question = row["question"]
  if prompt.count(question) != 1:
    raise ValueError(f"template {template!r} cannot be exported as a chat template: the question {question!r} "
                     f"does not appear exactly once in its prompt {prompt!r}")
  before, after = prompt.split(question)
  usage = (f"r1jax trained this model on its {template!r} prompt: pass one user message (the question) and "
           "add_generation_prompt=True")
  lines = [
      "{%- if messages | length != 1 or messages[0]['role'] != 'user' or not add_generation_prompt -%}\n",
      "{{- raise_exception(" + json.dumps(usage) + ") -}}\n",
      "{%- endif -%}\n",
      "{%- set content = messages[0]['content'] -%}\n",
      _CONTENT_EDITS.get(template, ""),
      "{{- bos_token -}}\n" if tokenizer.bos_token is not None else "",
      _jinja_text(before) + "\n",
      "{{- content -}}\n",
      _jinja_text(after) + "\n",
  ]
  return "".join(lines)


def export_pretrained(path: str | os.PathLike, cfg: ModelConfig, params: Any, tokenizer: Any, *,
                      template: str | None, template_opts: Mapping[str, Any] | None = None, dtype: Any = None,
                      max_shard_bytes: int = 5 * 2**30, head: str = "lm") -> Path:
  """Writes `path`: the model (`hf.save_pretrained`; head "score": a reward model, `hf.save_reward_model`),
  `tokenizer` with the chat template of `template`, and r1jax_template.json; all staged and published together, so
  an interrupted export leaves no partial directory.

  config.json and generation_config.json get the ids of `tokenizer`: BOS, PAD, and as EOS the stop tokens r1jax
  samples with (`r1jax.tokenizer.stop_token_ids`: a list when there are several, as Qwen's instruct models have).
  `template=None` keeps the tokenizer's chat template and records no template. `tokenizer` is not modified.

  Raises `hf.CheckpointError` when transformers would load the exported tokenizer differently from `tokenizer`
  (e.g. a tokenizer whose pipeline `Qwen2Tokenizer` cannot rebuild, under a qwen2 config), or when the exported
  chat template does not render the training prompts.
  """
  path = Path(path)
  options = dict(template_opts or {})
  if len(tokenizer) > cfg.vocab_size:
    raise ValueError(f"the tokenizer has {len(tokenizer)} tokens but the model's vocab_size is {cfg.vocab_size}")
  stop = tokenizer_lib.stop_token_ids(tokenizer)
  cfg = cfg.replace(bos_token_id=tokenizer.bos_token_id, pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=(stop[0] if len(stop) == 1 else stop) if stop else None)
  exported = copy.copy(tokenizer)
  if template is not None:
    jinja = chat_template(template, tokenizer, **options)
    if jinja is not None:
      exported.chat_template = jinja
  prefill = templates.render(template, _probe_rows(template)[0], tokenizer, **options).prefill if template else ""
  record = {"template": template, "options": options, "prefill": prefill}

  def write_tokenizer(staging: Path) -> None:
    exported.save_pretrained(staging)
    config_file = staging / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("tokenizer_class") == "TokenizersBackend":
      # transformers 5 reads "PreTrainedTokenizerFast" as the same class; transformers 4 knows only this name.
      config["tokenizer_class"] = "PreTrainedTokenizerFast"
      config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (staging / TEMPLATE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _check_export(staging, path, cfg, tokenizer, template, options)

  save = {"lm": hf.save_pretrained, "score": hf.save_reward_model}[head]
  return save(path, cfg, params, max_shard_bytes=max_shard_bytes, dtype=dtype, extra_files=write_tokenizer)


def _check_export(staging: Path, path: Path, cfg: ModelConfig, tokenizer: Any, template: str | None,
                  options: dict[str, Any]) -> None:
  """Loads the staged tokenizer as transformers will and raises `hf.CheckpointError` on any difference from
  training: the tokenizer itself, r1jax's re-rendering of the template, the chat template's prompts."""
  loaded = tokenizer_lib.load_tokenizer(staging)
  rows = _probe_rows(template) if template is not None else []
  prompts = templates.render_batch(template, rows, tokenizer, **options) if template is not None else []
  sample = "".join(tokenizer_lib.CHARACTERS) + "".join(tokenizer_lib.REASONING_TAGS)
  problems = tokenizer_lib.differences(tokenizer, loaded, [p.prompt for p in prompts] + [sample])
  if problems:
    raise hf.CheckpointError(
        f"{path}: transformers.AutoTokenizer loads the exported tokenizer as {type(loaded).__name__} (for "
        f"config.json's model_type {cfg.model_type!r}), which differs from the training tokenizer: "
        + "; ".join(problems))
  if template is None:
    return
  if [p.prompt for p in templates.render_batch(template, rows, loaded, **options)] != [p.prompt for p in prompts]:
    raise hf.CheckpointError(f"{path}: the exported tokenizer renders template {template!r} differently")
  if template == CHAT:
    return
  trained = batching.render_rows(tokenizer, rows, template, **options)
  for i, (row, want) in enumerate(zip(rows, trained)):
    text = loaded.apply_chat_template([{"role": "user", "content": row["question"]}], add_generation_prompt=True,
                                      tokenize=False)
    if tokenizer_lib.encode(loaded, text) != want:
      raise hf.CheckpointError(f"{path}: the exported chat template renders {text!r}, whose tokens differ from "
                               f"the training prompt {prompts[i].prompt!r} of template {template!r}")


def load_template(path: str | os.PathLike) -> dict[str, Any]:
  """The training template of an export: {"template": name or None, "options": {...}, "prefill": str}.

  `templates.render(t["template"], row, tokenizer, **t["options"])` re-renders a training prompt.
  """
  file = Path(path) / TEMPLATE_FILE
  if not file.exists():
    raise FileNotFoundError(f"{file}: not found (an r1jax export records its training template there)")
  record = json.loads(file.read_text(encoding="utf-8"))
  missing = {"template", "options", "prefill"} - set(record)
  if missing:
    raise ValueError(f"{file}: missing fields {sorted(missing)}")
  return record
