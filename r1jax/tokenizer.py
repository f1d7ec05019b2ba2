"""Tokenizers: load any Hugging Face tokenizer directory, or build r1jax's small built-in one.

The built-in tokenizer is character-level: one token per printable ASCII character (plus newline), and one token
each for the reasoning tags and BOS/EOS/PAD/UNK -- 104 tokens, so it fits the `tiny` model preset (vocab 128).
`decode(encode(s)) == s` for any text of that alphabet, spaces included; other characters (tabs, non-ASCII) have
no token and are dropped, so texts for the built-in tokenizer must stay in the alphabet (the synthetic tasks and the
templates do).

It is stored in the layout of Qwen2's tokenizer -- a byte-level BPE without merges, each character under its
byte-level symbol ("Ġ" for a space), Qwen2's normalizer, pre-tokenizer and decoder -- so that every loader builds
the same tokenizer from its files. transformers 5 does not always read tokenizer.json whole: next to a config.json
with model_type "qwen2", `AutoTokenizer` builds `Qwen2Tokenizer` whatever tokenizer_config.json names, and that
class takes the vocab, merges, added tokens and post-processor from tokenizer.json but brings its own normalizer,
pre-tokenizer and decoder. A character tokenizer in another layout loses every space and newline there (an exported
tiny model reloaded that way scores near zero). `differences` tells whether a reloaded tokenizer is the one written.

    tok = build_builtin_tokenizer("/tmp/tok")      # writes the files, returns the loaded tokenizer
    tok = load_tokenizer("/tmp/tok")               # or any HF tokenizer dir (or "builtin")
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from typing import Any, Sequence

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


def _byte_level_symbol(char: str) -> str:
  """The symbol byte-level BPE vocabularies (GPT-2, Qwen2, Llama 3) store a single-byte character under."""
  from tokenizers import pre_tokenizers

  ((symbol, _),) = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False).pre_tokenize_str(char)
  return symbol


def builtin_vocab() -> dict[str, int]:
  """Token -> id of the built-in tokenizer, as `get_vocab()` returns it: special tokens, reasoning tags, then the
  characters under their byte-level symbols (ids are stable: id 8 is newline, id 9 is space, ...)."""
  tokens = SPECIAL_TOKENS + REASONING_TAGS + tuple(_byte_level_symbol(c) for c in CHARACTERS)
  return {token: i for i, token in enumerate(tokens)}


def _builtin_backend():
  """The `tokenizers.Tokenizer` behind the built-in tokenizer: the pipeline transformers' `Qwen2Tokenizer` builds
  around a vocab, over a vocab of single characters and no merges (so each character is one token)."""
  from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
  from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

  tok = Tokenizer(models.BPE(vocab=builtin_vocab(), merges=[], dropout=None, unk_token=None,
                             continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False,
                             byte_fallback=False))
  tok.normalizer = normalizers.NFC()
  tok.pre_tokenizer = pre_tokenizers.Sequence([
      pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
      pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
  tok.decoder = decoders.ByteLevel()
  tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
  # The tags are whole tokens but not "special": decode(skip_special_tokens=True) must keep them, because rewards
  # read them in the decoded completion.
  tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in REASONING_TAGS])
  return tok


def build_builtin_tokenizer(directory: str | os.PathLike, *, model_max_length: int = 1024):
  """Writes the built-in tokenizer to `directory` in HF format and returns it loaded from there.

  Deterministic: every build writes byte-identical files. It is loaded as `AutoTokenizer` loads that directory
  (tokenizer_config.json names `PreTrainedTokenizerFast` and no config.json sits beside it, so that is the class
  AutoTokenizer picks) but through the class itself: `transformers.AutoTokenizer` imports its model-config machinery,
  and with it PyTorch where that is installed, seconds of start-up for every run on the built-in tokenizer.
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
  from transformers import PreTrainedTokenizerFast

  return PreTrainedTokenizerFast.from_pretrained(directory)


def load_tokenizer(path: str | os.PathLike, **kwargs: Any):
  """Any HF tokenizer via `transformers.AutoTokenizer`: a local directory, a hub name (needs network), or "builtin".

  "builtin" builds the built-in tokenizer in a temporary directory. A tokenizer without a pad token gets EOS as
  its pad token: r1jax always passes an explicit mask, so the pad id only has to be a valid id.
  """
  path = os.fspath(path)
  if path == BUILTIN:
    with tempfile.TemporaryDirectory() as tmp:
      return build_builtin_tokenizer(tmp)
  from transformers import AutoTokenizer

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


# The parts of a `tokenizers.Tokenizer` that decide how text becomes ids and ids become text.
_PIPELINE = ("normalizer", "pre_tokenizer", "model", "post_processor", "decoder")


def differences(expected, got, texts: Sequence[str] = ()) -> list[str]:
  """Why tokenizer `got` may encode or decode differently from `expected` (an empty list when it does not).

  Checks the `tokenizers` pipeline of both (normalizer, pre-tokenizer, model with its vocab and merges,
  post-processor, decoder), the added tokens with their matching flags, the special tokens, the decode clean-up, and
  `texts` encoded (without special tokens added) and decoded by both.
  """
  problems = []
  backends = [getattr(t, "backend_tokenizer", None) for t in (expected, got)]
  if all(b is not None for b in backends):
    want, have = (json.loads(b.to_str()) for b in backends)
    problems += [f"its {part} differs" for part in _PIPELINE if want.get(part) != have.get(part)]
  else:
    problems.append(f"cannot compare the pipelines of {type(expected).__name__} and {type(got).__name__}")
  flags = lambda t: {i: (a.content, a.special, a.lstrip, a.rstrip, a.single_word, a.normalized)  # noqa: E731
                     for i, a in t.added_tokens_decoder.items()}
  want_added, have_added = flags(expected), flags(got)
  if want_added != have_added:
    ids = sorted(i for i in set(want_added) | set(have_added) if want_added.get(i) != have_added.get(i))
    problems.append(f"its added tokens differ at ids {ids[:8]}")
  for name in ("bos_token", "eos_token", "pad_token", "unk_token"):
    want_token, have_token = getattr(expected, name, None), getattr(got, name, None)
    want_id, have_id = getattr(expected, name + "_id", None), getattr(got, name + "_id", None)
    if (want_token, want_id) != (have_token, have_id):
      problems.append(f"its {name} is {have_token!r} (id {have_id}), not {want_token!r} (id {want_id})")
  if bool(getattr(expected, "clean_up_tokenization_spaces", False)) != bool(
      getattr(got, "clean_up_tokenization_spaces", False)):
    problems.append("its clean_up_tokenization_spaces differs")
  for text in texts:
    want_ids, have_ids = encode(expected, text), encode(got, text)
    if want_ids != have_ids:
      problems.append(f"it encodes {text[:60]!r} as {have_ids[:12]}... instead of {want_ids[:12]}...")
    elif expected.decode(want_ids) != got.decode(have_ids):
      problems.append(f"it decodes {text[:60]!r} as {got.decode(have_ids)[:60]!r}")
  return problems
