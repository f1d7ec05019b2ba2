"""Chunked LM-head losses: the same loss, metrics and gradients as computing every logit at once, without ever
holding the [B, T, V] float32 logits (checked on the traced program, forward and backward)."""

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from r1jax.losses import chunked, distill, sft
from r1jax.models import forward, get_config, init_params
from r1jax.trainers.distill import make_loss_fn as distill_loss_fn
from r1jax.trainers.settings import DistillAlgorithmSettings


def test_over_positions_joins_chunks_like_one_call():
  x = jnp.arange(2 * 7 * 3, dtype=jnp.float32).reshape(2, 7, 3)
  y = jnp.arange(14).reshape(2, 7)
  fn = lambda a, b: (a.sum(-1) * b, a * 2.0)  # noqa: E731
  for chunk in (1, 3, 7, 100):  # uneven, exact, larger than T
    got = chunked.over_positions(fn, (x, y), chunk)
    want = fn(x, y)
    jax.tree.map(np.testing.assert_array_equal, got, want)
  with pytest.raises(ValueError, match="chunk"):
    chunked.over_positions(fn, (x, y), 0)


def _batch(vocab, b=3, t=13, seed=0):
  rng = np.random.RandomState(seed)
  ids = rng.randint(3, vocab, (b, t + 1))
  attn = (np.arange(t)[None] < rng.randint(5, t + 1, (b, 1))).astype(np.int32)
  mask = (attn * (np.arange(t)[None] >= 2)).astype(np.float32)
  return {"input_ids": jnp.asarray(ids[:, :-1]), "targets": jnp.asarray(ids[:, 1:]), "attention_mask": attn,
          "loss_mask": jnp.asarray(mask)}


def _largest_logits(fn, *args, vocab, rows=3):
  """Elements of the largest float32 array of logits (a batch axis of `rows`, a last axis of `vocab`) in the traced
  program of `fn` (a gradient: forward and backward)."""
  jaxpr = jax.make_jaxpr(fn)(*args)
  sizes = []

  def walk(jp):
    for eqn in jp.eqns:
      for v in eqn.outvars:
        aval = v.aval
        shape = getattr(aval, "shape", ())
        if getattr(aval, "dtype", None) == jnp.float32 and shape and shape[-1] == vocab and rows in shape[:-1]:
          sizes.append(int(np.prod(aval.shape)))
      for sub in jax.extend.core.jaxprs_in_params(eqn.params):
        walk(sub)

  walk(jaxpr.jaxpr)
  return max(sizes)


def test_chunked_sft_loss_equals_full_logits_and_never_holds_them():
  cfg = get_config("tiny")
  params = init_params(cfg, jax.random.PRNGKey(0))
  batch = _batch(cfg.vocab_size)
  full, part = sft.make_loss_fn(cfg), sft.make_loss_fn(cfg, logit_chunk=4)
  (l1, m1), g1 = jax.value_and_grad(full, has_aux=True)(params, batch, 17.0)
  (l2, m2), g2 = jax.value_and_grad(part, has_aux=True)(params, batch, 17.0)
  np.testing.assert_allclose(l2, l1, rtol=1e-6)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), m2, m1)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-7, rtol=1e-5), g2, g1)
  # An independent truth: cross_entropy on logits from the plain forward pass.
  logits = forward(cfg, params, batch["input_ids"], batch["attention_mask"])
  np.testing.assert_allclose(l2, sft.cross_entropy(logits, batch["targets"], batch["loss_mask"], normalizer=17.0)[0],
                             rtol=1e-6)
  b, t, v = 3, 13, cfg.vocab_size
  grad_full = jax.grad(lambda p: full(p, batch)[0])
  grad_part = jax.grad(lambda p: part(p, batch)[0])
  assert _largest_logits(grad_full, params, vocab=v) >= b * t * v
  assert _largest_logits(grad_part, params, vocab=v) <= b * 4 * v


@pytest.mark.parametrize("divergence", ["forward_kl", "reverse_kl", "jsd"])
def test_chunked_distillation_equals_full_logits_with_a_wider_teacher_vocabulary(divergence):
  """The teacher's vocabulary is padded to more rows than the student's (as R1-Distill-Qwen-7B's 152064 against
  Qwen2.5-1.5B's 151936): KD compares the shared first V logits, chunked or not."""
  student_cfg = get_config("tiny")
  teacher_cfg = get_config("tiny", vocab_size=160, hidden_size=96, intermediate_size=144)
  params = init_params(student_cfg, jax.random.PRNGKey(0))
  teacher = init_params(teacher_cfg, jax.random.PRNGKey(1))
  ds = DistillAlgorithmSettings(alpha=0.3, divergence=divergence, beta=0.4, temperature=2.0)
  batch = _batch(student_cfg.vocab_size)
  full, part = distill_loss_fn(student_cfg, teacher_cfg, ds), distill_loss_fn(student_cfg, teacher_cfg, ds, 5)
  (l1, m1), g1 = jax.value_and_grad(full, has_aux=True)(params, batch, None, teacher)
  (l2, m2), g2 = jax.value_and_grad(part, has_aux=True)(params, batch, None, teacher)
  np.testing.assert_allclose(l2, l1, rtol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7), m2, m1)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-7, rtol=1e-4), g2, g1)
  # Independent truth: the losses module on the plain forward passes' logits, the teacher's cut to the student's V.
  s_logits = forward(student_cfg, params, batch["input_ids"], batch["attention_mask"])
  t_logits = forward(teacher_cfg, teacher, batch["input_ids"], batch["attention_mask"])[..., :student_cfg.vocab_size]
  want, _ = distill.kl_regularized_loss(s_logits, t_logits, batch["targets"], batch["loss_mask"], alpha=0.3,
                                        divergence=divergence, beta=0.4, temperature=2.0)
  np.testing.assert_allclose(l2, want, rtol=1e-5)
  grad_part = jax.grad(lambda p: part(p, batch, None, teacher)[0])
  assert _largest_logits(grad_part, params, vocab=student_cfg.vocab_size) <= 3 * 5 * student_cfg.vocab_size
  assert _largest_logits(grad_part, params, vocab=teacher_cfg.vocab_size) <= 3 * 5 * teacher_cfg.vocab_size
