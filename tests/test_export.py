"""The Hugging Face export round trip: r1jax model + tokenizer + training template -> a directory that
`transformers.AutoTokenizer` / `AutoModelForCausalLM` load into the same token ids, prompts and greedy text."""

import json

import jax
import numpy as np
import pytest
import torch
import transformers

from r1jax import export, rollout
from r1jax import tokenizer as tok_lib
from r1jax.data import batching, tasks, templates
from r1jax.models import get_config, hf, init_params
from r1jax.sampling import SamplingConfig

# ChatML, the format of Qwen's instruct tokenizers.
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
# Questions that stress a chat template: a final period (r1_zero drops it), trailing spaces, a newline, quotes,
# backslashes and jinja's own delimiters.
HARD_QUESTIONS = ["What is 17 + 25?", "Compute 3 * 9.", "  padded question.  ", "two\nlines", 'say "hi" \\ {{ x }} {%']


def question_rows(n=4):
  return tasks.load("arithmetic", split="test", n=n, seed=0).to_list() + [{"question": q} for q in HARD_QUESTIONS]


def rows_for(template):
  return tasks.load("countdown", split="test", n=4, seed=0).to_list() if template == "countdown" else question_rows()


def chat_ids(tokenizer, question):
  out = tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True)
  return list(out["input_ids"] if hasattr(out, "keys") else out)  # transformers 5 returns a BatchEncoding


@pytest.fixture(scope="module")
def builtin(tmp_path_factory):
  return tok_lib.build_builtin_tokenizer(tmp_path_factory.mktemp("export_builtin"))


@pytest.fixture(scope="module")
def bpe(tmp_path_factory):
  """A tiny Qwen2-style tokenizer: byte-level BPE trained with `tokenizers`, ChatML specials and template, saved
  with tokenizer_class Qwen2Tokenizer as Qwen's own tokenizers are."""
  from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
  from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

  backend = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
  backend.normalizer = normalizers.NFC()
  backend.pre_tokenizer = pre_tokenizers.Sequence([
      pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
      pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
  backend.decoder = decoders.ByteLevel()
  corpus = [r["question"] + " " + r["completion"] for r in tasks.load("arithmetic", split="train", n=200).to_list()]
  trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
  backend.train_from_iterator(corpus * 5, trainer)
  path = tmp_path_factory.mktemp("export_bpe")
  transformers.PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                       chat_template=CHATML).save_pretrained(path)
  config = json.loads((path / "tokenizer_config.json").read_text())
  (path / "tokenizer_config.json").write_text(json.dumps({**config, "tokenizer_class": "Qwen2Tokenizer"}))
  tokenizer = tok_lib.load_tokenizer(path)
  assert type(tokenizer).__name__ == "Qwen2Tokenizer" and tokenizer.bos_token is None
  return tokenizer


def tiny(family, vocab_size=128):
  if family == "qwen2":
    return get_config("tiny", vocab_size=vocab_size)
  return get_config("tiny", vocab_size=vocab_size, model_type="llama", qkv_bias=False, tie_word_embeddings=False)


def random_params(cfg, seed=0):
  """Random params of `cfg` drawn on the host (no compiled init): weights N(0, 0.2^2), norm scales near 1."""
  rng = np.random.RandomState(seed)
  shapes = jax.eval_shape(lambda: init_params(cfg, jax.random.PRNGKey(0)))

  def draw(path, leaf):
    noise = rng.normal(0.0, 0.2, leaf.shape).astype(np.float32)
    return noise + 1.0 if "norm" in jax.tree_util.keystr(path) else noise

  return jax.tree_util.tree_map_with_path(draw, shapes)


def hf_greedy(model, prompt_ids, max_new_tokens, eos_ids):
  """transformers' greedy continuation of one prompt, cut before the first EOS."""
  with torch.no_grad():
    out = model.generate(torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                         do_sample=False, max_new_tokens=max_new_tokens)
  new = out[0, len(prompt_ids):].tolist()
  cut = next((i for i, t in enumerate(new) if t in eos_ids), len(new))
  return new[:cut]


# ------------------------------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("family, tokenizer_name, template", [
    ("qwen2", "builtin", "r1_zero_short"),
    ("llama", "builtin", "countdown"),
    ("qwen2", "bpe", "chat"),
])
def test_round_trip_through_transformers(family, tokenizer_name, template, request, tmp_path):
  tokenizer = request.getfixturevalue(tokenizer_name)
  cfg = tiny(family, vocab_size=max(128, len(tokenizer)))
  params = random_params(cfg)
  export.export_pretrained(tmp_path, cfg, params, tokenizer, template=template)

  hf_tok = transformers.AutoTokenizer.from_pretrained(tmp_path)
  model = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
  stop = tok_lib.stop_token_ids(tokenizer)
  assert model.generation_config.eos_token_id in (list(stop), stop[0])
  assert model.generation_config.pad_token_id == tokenizer.pad_token_id
  assert model.generation_config.bos_token_id == tokenizer.bos_token_id

  rows = rows_for(template)[:2]
  trained = batching.render_rows(tokenizer, rows, template)
  for row, ids in zip(rows, trained):
    assert hf_tok.encode(templates.render(template, row, tokenizer).prompt, add_special_tokens=False) == (
        tokenizer.encode(templates.render(template, row, tokenizer).prompt, add_special_tokens=False))
    assert chat_ids(hf_tok, row["question"]) == ids

  sc = SamplingConfig(max_new_tokens=10, temperature=0.0, eos_ids=stop, pad_id=tokenizer.pad_token_id)
  ro = rollout.sample(cfg, params, tokenizer, rows, template, sc, jax.random.PRNGKey(0), max_prompt_len=4096)
  tokens, mask = np.asarray(ro.sample.tokens), np.asarray(ro.sample.mask)
  for i, ids in enumerate(trained):
    ours = [t for t in tokens[i][mask[i] == 1].tolist() if t not in stop]
    theirs = hf_greedy(model, ids, sc.max_new_tokens, stop)
    assert theirs == ours
    assert hf_tok.decode(theirs) == ro.completions[i]


def test_load_tokenizer_of_an_export_is_the_training_tokenizer(builtin, tmp_path):
  cfg = tiny("qwen2")
  export.export_pretrained(tmp_path, cfg, random_params(cfg), builtin,
                           template="r1_zero", template_opts={"prefill_think": False})
  loaded = tok_lib.load_tokenizer(tmp_path)
  texts = ["What is 3 + 4\nok", "  <think>a b</think> <answer>7</answer>  ", "".join(tok_lib.CHARACTERS)]
  assert tok_lib.differences(builtin, loaded, texts) == []
  for text in texts:
    assert loaded.decode(tok_lib.encode(loaded, text)) == text
  assert builtin.chat_template == tok_lib.BUILTIN_CHAT_TEMPLATE  # the export changed only its own copy
  record = export.load_template(tmp_path)
  assert record == {"template": "r1_zero", "options": {"prefill_think": False}, "prefill": ""}
  rows = question_rows()
  assert batching.render_rows(loaded, rows, record["template"], **record["options"]) == (
      batching.render_rows(builtin, rows, "r1_zero", prefill_think=False))


def test_the_old_built_in_layout_is_refused_under_qwen2_and_nothing_is_written(builtin, tmp_path):
  # A character-level WordLevel tokenizer (r1jax's former built-in layout) loads as itself under a llama config, but
  # transformers rebuilds it as Qwen2Tokenizer under a qwen2 config, which drops spaces: the export refuses that.
  from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

  backend = Tokenizer(models.WordLevel(vocab={"<unk>": 0, "<eos>": 1, " ": 2, "a": 3, "b": 4}, unk_token="<unk>"))
  backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
  backend.decoder = decoders.Fuse()
  chars = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", eos_token="<eos>",
                                               pad_token="<eos>", clean_up_tokenization_spaces=False)
  llama, qwen2 = tiny("llama", vocab_size=8), tiny("qwen2", vocab_size=8)
  export.export_pretrained(tmp_path / "llama", llama, random_params(llama), chars, template=None)
  assert transformers.AutoTokenizer.from_pretrained(tmp_path / "llama").decode([3, 2, 4]) == "a b"

  with pytest.raises(hf.CheckpointError, match="Qwen2Tokenizer.*pre_tokenizer"):
    export.export_pretrained(tmp_path / "qwen2", qwen2, random_params(qwen2), chars, template=None)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["llama"]  # no partial export, no staging left behind


def test_re_export_replaces_the_previous_tokenizer(builtin, bpe, tmp_path):
  cfg = tiny("qwen2", vocab_size=max(128, len(bpe)))
  params = random_params(cfg)
  export.export_pretrained(tmp_path, cfg, params, builtin, template="r1_zero_short")
  export.export_pretrained(tmp_path, cfg, params, bpe, template="chat")
  loaded = transformers.AutoTokenizer.from_pretrained(tmp_path)
  assert tok_lib.differences(bpe, loaded, ["What is 3 + 4?"]) == [] and loaded.chat_template == CHATML
  assert export.load_template(tmp_path)["template"] == "chat"
  assert not [p for p in tmp_path.parent.iterdir() if "r1jax-save" in p.name]


# ------------------------------------------------------------------------------------------------ chat templates


@pytest.mark.parametrize("template, options", [
    ("r1_zero_short", {}),
    ("r1_zero", {}),
    ("r1_zero", {"prefill_think": False}),
    ("r1_zero_no_prefill", {}),
    ("countdown", {}),
])
@pytest.mark.parametrize("tokenizer_name", ["builtin", "bpe"])
def test_chat_template_renders_the_training_prompt_byte_for_byte(template, options, tokenizer_name, request):
  tokenizer = request.getfixturevalue(tokenizer_name)
  jinja = export.chat_template(template, tokenizer, **options)
  rows = rows_for(template)
  for row, ids in zip(rows, batching.render_rows(tokenizer, rows, template, **options)):
    text = tokenizer.apply_chat_template([{"role": "user", "content": row["question"]}], chat_template=jinja,
                                         add_generation_prompt=True, tokenize=False)
    prompt = templates.render(template, row, tokenizer, **options).prompt
    # BOS exactly where r1jax puts it: before every prompt when the tokenizer has one, never otherwise.
    assert text == (tokenizer.bos_token or "") + prompt
    assert tok_lib.encode(tokenizer, text) == ids


def test_prompt_chat_template_takes_one_user_message_with_the_generation_prompt(builtin):
  jinja = export.chat_template("r1_zero_short", builtin)
  user = {"role": "user", "content": "What is 1 + 1?"}
  for messages, gen in [([user], False), ([{"role": "system", "content": "x"}, user], True),
                        ([user, {"role": "assistant", "content": "2"}], True)]:
    with pytest.raises(Exception, match="r1_zero_short"):
      builtin.apply_chat_template(messages, chat_template=jinja, add_generation_prompt=gen, tokenize=False)
  assert export.chat_template("chat", builtin) is None


def test_an_unknown_template_name_is_the_registry_error_not_a_template_that_needs_more(builtin):
  with pytest.raises(KeyError, match=r"unknown template 'r1_zeroo'; valid: .*r1_zero_short") as e:
    export.chat_template("r1_zeroo", builtin)
  assert "needs more of a row" not in str(e.value)
  templates.register("needs_numbers", lambda row, tok: templates.Prompt(str(row["numbers"]), ""))
  try:  # what that error is for: a registered template that reads more than the question
    with pytest.raises(ValueError, match=r"'needs_numbers' .* needs more of a row than the question \(numbers\)"):
      export.chat_template("needs_numbers", builtin)
  finally:
    templates.TEMPLATES.pop("needs_numbers")
