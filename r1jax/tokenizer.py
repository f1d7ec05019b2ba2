"""Tokenizers: load any Hugging Face tokenizer directory, or build r1jax's small built-in one.

The built-in tokenizer is character-level: one token per printable ASCII character (plus newline), and one token
each for the reasoning tags and BOS/EOS/PAD/UNK -- 104 tokens, so it fits the `tiny` model preset (vocab 128).
It has no normalizer and a fusing decoder, so `decode(encode(s)) == s` for any ASCII text, spaces included.
It is written in the standard HF format (tokenizer.json + tokenizer_config.json), so it loads through
`transformers.AutoTokenizer` exactly like a real model's tokenizer, chat template included.

    tok = build_builtin_tokenizer("/tmp/tok")      # writes the files, returns the loaded tokenizer
    tok = load_tokenizer("/tmp/tok")               # or any HF tokenizer dir (or "builtin")
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from typing import Any

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
THINK, END_THINK, ANSWER, END_ANSWER = "<think>", "</think>", "<answer>", "</answer>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
REASONING_TAGS = (THINK, END_THINK, ANSWER, END_ANSWER)
# Newline plus printable ASCII (space .. tilde): everything the synthetic tasks and templates write.
CHARACTERS = ("\n",) + tuple(chr(c) for c in range(32, 127))
BUILTIN = "builtin"

# Roles render as plain text so the chat format costs no extra vocabulary. Assistant turns end with EOS, which is
# what the model learns to emit and what sampling stops on.
BUILTIN_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n"
    "{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n"
    "{% elif message['role'] == 'assistant' %}Assistant: {{ message['content'] }}{{ eos_token }}\n"
    "{% else %}{{ raise_exception('unknown role: ' + message['role']) }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant: {% endif %}")


def builtin_vocab() -> dict[str, int]:
  """Token -> id of the built-in tokenizer: special tokens, reasoning tags, then characters (ids are stable)."""
  tokens = SPECIAL_TOKENS + REASONING_TAGS + CHARACTERS
  return {token: i for i, token in enumerate(tokens)}


def _builtin_backend():
  """The `tokenizers.Tokenizer` behind the built-in tokenizer (a WordLevel model over single characters)."""
  from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

  tok = Tokenizer(models.WordLevel(vocab=builtin_vocab(), unk_token=UNK))
  # Every character is its own pre-token, so the WordLevel lookup is a per-character lookup.
  tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
  # Without a decoder, tokens would be joined with spaces; Fuse concatenates them unchanged.
  tok.decoder = decoders.Fuse()
  tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
  # The tags are whole tokens but not "special": decode(skip_special_tokens=True) must keep them, because rewards
  # read them in the decoded completion.
  tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in REASONING_TAGS])
  return tok


def build_builtin_tokenizer(directory: str | os.PathLike, *, model_max_length: int = 1024):
  """Writes the built-in tokenizer to `directory` in HF format and returns it loaded via `load_tokenizer`.

  Deterministic: every build writes byte-identical files.
  """
  directory = os.fspath(directory)
  os.makedirs(directory, exist_ok=True)
  backend = _builtin_backend()
  with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as f:
    f.write(backend.to_str(pretty=True))
  config = {
      "tokenizer_class": "PreTrainedTokenizerFast",
      "bos_token": BOS,
      "eos_token": EOS,
      "pad_token": PAD,
      "unk_token": UNK,
      # The default clean-up would delete spaces before punctuation and break the exact round trip.
      "clean_up_tokenization_spaces": False,
      "add_bos_token": False,
      "add_eos_token": False,
      "model_max_length": model_max_length,
      "chat_template": BUILTIN_CHAT_TEMPLATE,
  }
  with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2, sort_keys=True)
    f.write("\n")
  special = {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD, "unk_token": UNK}
  with open(os.path.join(directory, "special_tokens_map.json"), "w", encoding="utf-8") as f:
    json.dump(special, f, indent=2, sort_keys=True)
    f.write("\n")
  return load_tokenizer(directory)


def load_tokenizer(path: str | os.PathLike, **kwargs: Any):
  """Any HF tokenizer via `transformers.AutoTokenizer`: a local directory, a hub name (needs network), or "builtin".

  "builtin" builds the built-in tokenizer in a temporary directory. A tokenizer without a pad token gets EOS as
  its pad token: r1jax always passes an explicit mask, so the pad id only has to be a valid id.
  """
  from transformers import AutoTokenizer

  path = os.fspath(path)
  if path == BUILTIN:
    with tempfile.TemporaryDirectory() as tmp:
      return build_builtin_tokenizer(tmp)
  tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
  if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
    logging.info("tokenizer %s has no pad token; using EOS %r", path, tokenizer.eos_token)
    tokenizer.pad_token = tokenizer.eos_token
  return tokenizer


def stop_token_ids(tokenizer) -> tuple[int, ...]:
  """Ids that end a completion: EOS plus the end-of-turn tokens of common chat formats when the vocab has them."""
  ids = []
  if tokenizer.eos_token_id is not None:
    ids.append(int(tokenizer.eos_token_id))
  vocab = tokenizer.get_vocab()
  for token in ("<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<｜end▁of▁sentence｜>"):
    if token in vocab and vocab[token] not in ids:
      ids.append(int(vocab[token]))
  return tuple(ids)


def encode(tokenizer, text: str) -> list[int]:
  """Token ids of `text` with no special tokens added (templates put BOS/EOS where they belong)."""
  return list(tokenizer(text, add_special_tokens=False)["input_ids"])
