"""Reward model: scores against transformers' ...ForSequenceClassification, and its checkpoints both ways."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers

from r1jax.models import hf, reward_model
from r1jax.testing import left_padded_batch, make_hf_model

FAMILIES = ("qwen2", "llama", "qwen3")


def hf_scores(model, ids, mask):
  with torch.no_grad():
    return model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits[:, 0].float().numpy()


def right_padded(ids, mask):
  """The same sequences moved to the left edge (padding on the right)."""
  out_ids, out_mask = np.zeros_like(ids), np.zeros_like(mask)
  for i, row in enumerate(mask.astype(bool)):
    out_ids[i, :row.sum()], out_mask[i, :row.sum()] = ids[i][row], 1
  return out_ids, out_mask


@pytest.fixture(scope="module")
def hf_reward_models(tmp_path_factory):
  """{family: (transformers model, its saved directory)}: tiny random ...ForSequenceClassification, one label."""
  out = {}
  for family in FAMILIES:
    model = make_hf_model(family, seed=3, head="score")
    path = tmp_path_factory.mktemp(f"rm_{family}")
    model.save_pretrained(path)
    out[family] = (model, path)
  return out


@pytest.mark.parametrize("family", FAMILIES)
def test_scores_match_transformers_with_left_and_right_padding(family, hf_reward_models):
  model, path = hf_reward_models[family]
  cfg, params = hf.load_reward_model(path)
  # The pad id (0) never occurs among real tokens, so transformers' "rightmost non-pad token" is our last real token.
  ids, mask = left_padded_batch(cfg.vocab_size, seed=2, lengths=(12, 9, 4, 1))
  for batch_ids, batch_mask in ((ids, mask), right_padded(ids, mask)):
    pos = np.maximum(batch_mask.cumsum(-1) - 1, 0)
    with torch.no_grad():
      ref = model(input_ids=torch.tensor(batch_ids), attention_mask=torch.tensor(batch_mask),
                  position_ids=torch.tensor(pos)).logits[:, 0].numpy()
    ours = np.asarray(reward_model.score(cfg, params, jnp.asarray(batch_ids), jnp.asarray(batch_mask)))
    assert ours.shape == (4,) and np.abs(ours - ref).max() < 1e-5
  assert np.ptp(ref) > 1e-3  # the rows really differ: a constant score would not test the token it is read at


@pytest.mark.parametrize("family", ("qwen2", "llama"))
def test_save_reward_model_loads_in_transformers_and_back(family, hf_reward_models, tmp_path):
  model, path = hf_reward_models[family]
  cfg, params = hf.load_reward_model(path)
  hf.save_reward_model(tmp_path, cfg, params)
  reloaded = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path, attn_implementation="eager")
  assert type(reloaded).__name__ == hf.SEQUENCE_CLASSIFICATION[family] and reloaded.config.num_labels == 1
  ids, mask = right_padded(*left_padded_batch(cfg.vocab_size, seed=4))
  np.testing.assert_allclose(hf_scores(reloaded.eval(), ids, mask), hf_scores(model, ids, mask), atol=1e-6, rtol=0)
  cfg2, params2 = hf.load_reward_model(tmp_path)
  assert cfg2 == cfg
  jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)), params, params2)


def test_a_causal_lm_gives_the_backbone_and_a_new_head(hf_checkpoints):
  path = hf_checkpoints["llama"]  # untied: its lm_head must be left out of the reward model
  with pytest.raises(hf.CheckpointError, match="rng="):
    hf.load_reward_model(path)
  cfg, lm = hf.load_pretrained(path)
  _, rm = hf.load_reward_model(path, rng=jax.random.PRNGKey(0))
  assert set(rm) == {"backbone", "score"} and "lm_head" not in rm["backbone"]
  jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)), rm["backbone"],
               {k: v for k, v in lm.items() if k != "lm_head"})
  kernel = np.asarray(rm["score"]["kernel"])
  assert kernel.shape == (cfg.hidden_size, 1) and 0.01 < kernel.std() < 0.04  # transformers' init, std 0.02
  # A reward-model checkpoint is not a causal LM: loading it as one names the tensors that do not fit.
  saved = hf.save_reward_model(path.parent / "rm_from_llama", cfg, rm)
  with pytest.raises(hf.CheckpointError, match="missing tensors \\['lm_head.weight'\\].*unexpected tensors "
                     "\\['score.weight'\\]"):
    hf.load_pretrained(saved)


def test_backbone_of_another_shape_is_refused():
  from r1jax.models import get_config, init_params

  cfg = get_config("tiny")
  other = jax.eval_shape(lambda: init_params(cfg.replace(num_layers=3), jax.random.PRNGKey(0)))  # shapes suffice
  with pytest.raises(ValueError, match="layers"):
    reward_model.init_params(cfg, jax.random.PRNGKey(1), backbone=other)


def test_last_token_index_reads_either_padding_side():
  mask = jnp.asarray([[0, 0, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]])
  np.testing.assert_array_equal(np.asarray(reward_model.last_token_index(mask)), [3, 2, 0, 3])
