"""Packed rows are isolated: the model's logits for [seqA, seqB, ...] packed equal each sequence run alone."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from r1jax.data import batching

LENGTH = 128


def random_params(cfg, seed=0):
  """Random weights of the right shapes; numpy draws avoid compiling the model's initializer (slow on CPU)."""
  from r1jax.models import init_params

  shapes = jax.eval_shape(functools.partial(init_params, cfg), jax.random.PRNGKey(0))
  rng = np.random.default_rng(seed)

  def draw(path, leaf):
    noise = rng.normal(size=leaf.shape).astype(np.float32)
    is_scale = getattr(path[-1], "key", None) == "scale"
    return jnp.asarray(1.0 + 0.1 * noise if is_scale else 0.2 * noise)

  return jax.tree_util.tree_map_with_path(draw, shapes)


def test_packed_logits_equal_separate_logits(builtin_tok):
  from r1jax.models import Transformer, get_config

  cfg = get_config("tiny")
  params = random_params(cfg)

  @jax.jit
  def logits_fn(batch):  # every call below is [1, LENGTH]: one compile with segments, one without
    return Transformer(cfg).apply({"params": params}, batch["input_ids"], attention_mask=batch["attention_mask"],
                                  positions=batch.get("positions"), segment_ids=batch.get("segment_ids"))

  texts = [("User: 12 + 7\nAssistant: <think>", "12 + 7 = 19.</think><answer>19</answer>"),
           ("User: 3 * 4\nAssistant: <think>", "3 * 4 = 12.</think><answer>12</answer>"),
           ("Q: 5?", "<think>5</think><answer>5</answer>")]
  examples, _ = batching.encode_sft(builtin_tok, [p for p, _ in texts], [c for _, c in texts], max_len=LENGTH)
  assert max(int(e.tokens.max()) for e in examples) < cfg.vocab_size
  packed, leftover = batching.pack_sft(examples, length=LENGTH, pad_id=0)
  assert leftover == [] and packed["input_ids"].shape == (1, LENGTH) and packed["segment_ids"].max() == 3

  logits = np.asarray(logits_fn(packed))
  seg = packed["segment_ids"][0]
  for i, example in enumerate(examples):
    # Alone: a plain right-padded row, positions from the mask, no segment ids.
    alone = batching.collate_sft([example], pad_id=0, length=LENGTH)
    alone = {"input_ids": alone["input_ids"], "attention_mask": alone["attention_mask"]}
    alone_logits = np.asarray(logits_fn(alone))
    cols = np.nonzero(seg == i + 1)[0]
    np.testing.assert_allclose(logits[0, cols], alone_logits[0, :len(cols)], atol=1e-5, rtol=1e-5)

  # Without segment ids the second sequence sees the first one: the check above can tell the difference.
  leaky = np.asarray(logits_fn({"input_ids": packed["input_ids"], "attention_mask": packed["attention_mask"]}))
  cols = np.nonzero(seg == 2)[0]
  assert np.abs(leaky[0, cols] - logits[0, cols]).max() > 1e-3
