"""Parity with `transformers` (the independent truth) and the HF checkpoint round trip."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from r1jax.testing import left_padded_batch, make_hf_model

from r1jax.models import forward, hf

FAMILIES = ("qwen2", "llama", "qwen3")


def hf_logits(model, ids, mask):
  pos = np.maximum(mask.cumsum(-1) - 1, 0)
  with torch.no_grad():
    out = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), position_ids=torch.tensor(pos))
  return out.logits.float().numpy()


@pytest.mark.parametrize("family", FAMILIES)
def test_logits_match_transformers_on_left_padded_batch(family, hf_checkpoints):
  model = make_hf_model(family)
  cfg, params = hf.load_pretrained(hf_checkpoints[family], dtype=jnp.float32)
  ids, mask = left_padded_batch(cfg.vocab_size)
  ref = hf_logits(model, ids, mask)
  ours = np.asarray(forward(cfg, params, jnp.asarray(ids), jnp.asarray(mask)))
  real = mask.astype(bool)
  assert np.abs(ours - ref)[real].max() < 1e-4
  # The features each family adds are really on: a broken one would not give parity above.
  assert cfg.model_type == family
  assert cfg.qkv_bias == (family == "qwen2") and cfg.qk_norm == (family == "qwen3")
  assert (cfg.rope_scaling is not None) == (family == "llama")


def test_config_fields_read_from_config_json(hf_checkpoints):
  cfg, _ = hf.load_pretrained(hf_checkpoints["qwen3"])
  assert (cfg.head_dim, cfg.num_heads, cfg.num_kv_heads, cfg.num_layers) == (32, 4, 2, 3)
  assert cfg.tie_word_embeddings and cfg.rope_theta == 1e6
  cfg, _ = hf.load_pretrained(hf_checkpoints["llama"])
  assert cfg.rope_scaling.original_max_position_embeddings == 64 and not cfg.tie_word_embeddings


# RoPE scalings other than Llama 3's, each on one family: the fields as a hub config.json writes them.
_ROPE_SCALINGS = [
    ("qwen2", {"rope_type": "linear", "factor": 4.0}),
    ("qwen3", {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}),  # Qwen3's long context
    ("llama", {"rope_type": "yarn", "factor": 3.0, "original_max_position_embeddings": 64, "beta_fast": 16,
               "beta_slow": 2, "attention_factor": 1.2, "truncate": False}),
    ("qwen2", {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128, "mscale": 1.0,
               "mscale_all_dim": 0.5}),  # DeepSeek-V3's form of the attention factor
]


def _scaled_hf_model(family, rope, path):
  """A tiny HF model of `family` with RoPE scaling `rope`, written to `path` (config.json in transformers' layout)."""
  config = make_hf_model(family).config.to_dict()
  theta = (config.get("rope_parameters") or {}).get("rope_theta", config.get("rope_theta"))
  config.pop("rope_scaling", None)
  config["rope_parameters"] = dict(rope, rope_theta=theta)
  model = transformers.AutoModelForCausalLM.from_config(type(make_hf_model(family).config).from_dict(config),
                                                       attn_implementation="eager")
  model.load_state_dict(make_hf_model(family).state_dict())
  model.eval().save_pretrained(path)
  return model


@pytest.mark.parametrize("family, rope", _ROPE_SCALINGS)
def test_rope_scalings_match_transformers_and_round_trip(family, rope, tmp_path):
  model = _scaled_hf_model(family, rope, tmp_path / "hub")
  cfg, params = hf.load_pretrained(tmp_path / "hub")
  assert cfg.rope_scaling.rope_type == rope["rope_type"]
  ids, mask = left_padded_batch(cfg.vocab_size, lengths=(40, 31, 9), total=40)
  ref = hf_logits(model, ids, mask)
  ours = np.asarray(forward(cfg, params, jnp.asarray(ids), jnp.asarray(mask)))
  real = mask.astype(bool)
  error = np.abs(ours - ref)[real].max()
  assert error < 1e-4
  # The scaling is really applied: the same weights without it give other logits (the tiny model's logits are
  # small, so the gap is measured against the parity error).
  plain = np.asarray(forward(cfg.replace(rope_scaling=None), params, jnp.asarray(ids), jnp.asarray(mask)))
  assert np.abs(plain - ref)[real].max() > max(1e-3, 100 * error)
  # Saved back, transformers reads the same scaling (the same logits) and so does r1jax.
  hf.save_pretrained(tmp_path / "out", cfg, params)
  reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "out", attn_implementation="eager").eval()
  np.testing.assert_allclose(hf_logits(reloaded, ids, mask), ref, atol=1e-5, rtol=0)
  assert hf.load_pretrained(tmp_path / "out")[0] == cfg


def test_yarn_scales_cos_and_sin_by_its_attention_factor():
  from r1jax.models import RopeScaling

  assert RopeScaling(rope_type="yarn", factor=4.0).cos_sin_scale == pytest.approx(0.1 * np.log(4.0) + 1.0)
  assert RopeScaling(rope_type="yarn", factor=4.0, mscale=1.0, mscale_all_dim=0.5).cos_sin_scale == pytest.approx(
      (0.1 * np.log(4.0) + 1.0) / (0.05 * np.log(4.0) + 1.0))
  assert RopeScaling(rope_type="yarn", factor=4.0, attention_factor=1.5).cos_sin_scale == 1.5
  assert RopeScaling(rope_type="yarn", factor=0.5).cos_sin_scale == 1.0  # no extension, no temperature
  assert RopeScaling(rope_type="linear", factor=4.0).cos_sin_scale == 1.0
  with pytest.raises(ValueError, match="beta_fast > beta_slow"):
    RopeScaling(rope_type="yarn", beta_fast=1.0, beta_slow=2.0)
  with pytest.raises(ValueError, match="dynamic"):
    RopeScaling(rope_type="dynamic")


@pytest.mark.parametrize("family", FAMILIES)
def test_save_pretrained_round_trip_through_transformers(family, hf_checkpoints, tmp_path):
  cfg, params = hf.load_pretrained(hf_checkpoints[family])
  hf.save_pretrained(tmp_path, cfg, params)
  assert {"config.json", "generation_config.json", "model.safetensors"} <= {p.name for p in tmp_path.iterdir()}
  reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
  ids, mask = left_padded_batch(cfg.vocab_size, seed=1)
  np.testing.assert_allclose(hf_logits(reloaded, ids, mask), hf_logits(make_hf_model(family), ids, mask),
                             atol=1e-6, rtol=0)
  cfg2, params2 = hf.load_pretrained(tmp_path)
  assert cfg2 == cfg
  jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)), params, params2)


def test_sharded_checkpoint_with_index(hf_checkpoints, tmp_path):
  cfg, params = hf.load_pretrained(hf_checkpoints["llama"])
  hf.save_pretrained(tmp_path, cfg, params, max_shard_bytes=40_000)
  index = json.loads((tmp_path / hf.SAFE_INDEX).read_text())
  shards = sorted(set(index["weight_map"].values()))
  assert len(shards) > 2 and not (tmp_path / hf.SAFE_WEIGHTS).exists()
  _, params2 = hf.load_pretrained(tmp_path)
  ids, mask = left_padded_batch(cfg.vocab_size)
  np.testing.assert_array_equal(np.asarray(forward(cfg, params, jnp.asarray(ids), jnp.asarray(mask))),
                                np.asarray(forward(cfg, params2, jnp.asarray(ids), jnp.asarray(mask))))
  reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
  ref = hf_logits(reloaded, ids, mask)
  ours = np.asarray(forward(cfg, params, jnp.asarray(ids), jnp.asarray(mask)))
  assert np.abs(ours - ref)[mask.astype(bool)].max() < 1e-4
  # Re-saving unsharded removes the old shards, so no loader can mix the two.
  hf.save_pretrained(tmp_path, cfg, params)
  assert not list(tmp_path.glob("model-*.safetensors")) and not (tmp_path / hf.SAFE_INDEX).exists()


def test_bf16_load_keeps_dtype_and_saves_bf16(hf_checkpoints, tmp_path):
  cfg, params = hf.load_pretrained(hf_checkpoints["qwen2"], dtype=jnp.bfloat16)
  assert cfg.param_dtype == "bfloat16" and cfg.dtype == "bfloat16"
  assert params["embed"]["embedding"].dtype == jnp.bfloat16
  hf.save_pretrained(tmp_path, cfg, params)
  assert json.loads((tmp_path / "config.json").read_text()).get("dtype", "bfloat16") == "bfloat16"
  cfg2, params2 = hf.load_pretrained(tmp_path, dtype=jnp.bfloat16, compute_dtype=jnp.float32)
  assert cfg2.dtype == "float32" and params2["embed"]["embedding"].dtype == jnp.bfloat16


# ----------------------------------------------------------------------------------------------------- bad input


def _copy_checkpoint(src, dst):
  import shutil

  shutil.copytree(src, dst, dirs_exist_ok=True)
  return dst


def _edit_config(path, **changes):
  cfg = json.loads((path / "config.json").read_text())
  for k, v in changes.items():
    if v is None:
      cfg.pop(k, None)
    else:
      cfg[k] = v
  (path / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize("changes, needle", [
    (dict(model_type="gpt2"), "model_type"),
    (dict(architectures=["MistralForCausalLM"]), "architectures"),
    (dict(rope_parameters={"rope_type": "dynamic", "factor": 4.0, "rope_theta": 1e4}), "dynamic"),
    (dict(rope_parameters={"rope_type": "yarn", "factor": 4.0, "rope_theta": 1e4}),
     "lacks 'original_max_position_embeddings'"),
    (dict(rope_parameters={"rope_type": "linear", "factor": "4", "rope_theta": 1e4}), "factor"),
    (dict(partial_rotary_factor=0.5), "partial_rotary_factor"),
    (dict(hidden_size="64"), "hidden_size"),
    (dict(num_hidden_layers=2.5), "num_hidden_layers"),
    (dict(tie_word_embeddings="yes"), "tie_word_embeddings"),
    (dict(vocab_size=None), "vocab_size"),
    (dict(use_sliding_window=True), "use_sliding_window"),
    (dict(hidden_act="gelu"), "hidden_act"),
])
def test_bad_config_names_key_and_file(changes, needle, hf_checkpoints, tmp_path):
  path = _copy_checkpoint(hf_checkpoints["qwen2"], tmp_path / "ckpt")
  _edit_config(path, **changes)
  with pytest.raises(hf.CheckpointError) as e:
    hf.load_pretrained(path)
  assert needle in str(e.value) and "config.json" in str(e.value)


def _rewrite_weights(path, fn):
  from safetensors.numpy import load_file, save_file

  tensors = load_file(path / hf.SAFE_WEIGHTS)
  fn(tensors)
  save_file(tensors, path / hf.SAFE_WEIGHTS)


@pytest.mark.parametrize("edit, needle", [
    (lambda t: t.pop("model.layers.1.self_attn.k_proj.bias"), "model.layers.1.self_attn.k_proj.bias"),
    (lambda t: t.update({"model.layers.0.mlp.up_proj.weight": np.zeros((95, 64), np.float32)}),
     "model.layers.0.mlp.up_proj.weight"),
    (lambda t: t.update({"model.layers.7.mlp.up_proj.weight": np.zeros((96, 64), np.float32)}),
     "model.layers.7.mlp.up_proj.weight"),
])
def test_missing_misshapen_or_extra_tensor_is_an_error(edit, needle, hf_checkpoints, tmp_path):
  path = _copy_checkpoint(hf_checkpoints["qwen2"], tmp_path / "ckpt")
  _rewrite_weights(path, edit)
  with pytest.raises(hf.CheckpointError, match=needle.replace(".", r"\.")):
    hf.load_pretrained(path)


def test_nan_or_inf_weights_are_refused_naming_file_and_tensor(hf_checkpoints, tmp_path):
  path = _copy_checkpoint(hf_checkpoints["qwen2"], tmp_path / "ckpt")

  def poison(tensors):
    tensors["model.layers.1.mlp.down_proj.weight"][0, :3] = [np.nan, np.inf, np.nan]
  _rewrite_weights(path, poison)
  with pytest.raises(hf.CheckpointError) as e:
    hf.load_pretrained(path)
  message = str(e.value)
  assert str(path / hf.SAFE_WEIGHTS) in message and "'model.layers.1.mlp.down_proj.weight'" in message
  assert "3 non-finite values (NaN and inf)" in message
  cfg, params = hf.load_pretrained(path, check_finite=False)  # asked for explicitly, they load
  assert np.isnan(np.asarray(params["layers"]["mlp"]["down_proj"]["kernel"])).any()


@pytest.mark.parametrize("size", [100, 20_000])
def test_a_damaged_safetensors_file_is_named(size, hf_checkpoints, tmp_path):
  path = _copy_checkpoint(hf_checkpoints["qwen2"], tmp_path / "ckpt")
  weights = path / hf.SAFE_WEIGHTS
  with open(weights, "r+b") as f:
    f.truncate(size)  # cut inside the header, and inside the data
  with pytest.raises(hf.CheckpointError, match=rf"^{weights}: not a readable safetensors file \(SafetensorError"):
    hf.load_pretrained(path)


def test_missing_config_or_weights_is_an_error(tmp_path):
  with pytest.raises(hf.CheckpointError, match="config.json"):
    hf.load_pretrained(tmp_path)
  (tmp_path / "config.json").write_text(json.dumps(hf_tiny_dict()))
  with pytest.raises(hf.CheckpointError, match="safetensors"):
    hf.load_pretrained(tmp_path)


def hf_tiny_dict():
  from r1jax.testing import hf_tiny_config

  return hf_tiny_config("qwen2").to_dict()
