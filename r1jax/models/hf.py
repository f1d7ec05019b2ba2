"""Hugging Face checkpoints (config.json + safetensors) <-> (ModelConfig, params). No torch needed.

    cfg, params = load_pretrained("/path/to/Qwen2.5-1.5B", dtype=jnp.bfloat16)
    save_pretrained("/tmp/out", cfg, params)      # loadable by transformers.AutoModelForCausalLM

    cfg, rm = load_reward_model("/runs/rm/hf")    # a ...ForSequenceClassification checkpoint (num_labels=1), or
    cfg, rm = load_reward_model("/ckpt/Qwen2.5-0.5B", rng=key)   # a causal LM's backbone with a new score head
    save_reward_model("/tmp/rm", cfg, rm)         # loadable by transformers.AutoModelForSequenceClassification

HF stores a linear layer as W [out, in] (y = x W^T); Flax stores kernel [in, out]. Attention projections are
kept per head here (q kernel [E, H, D], o kernel [H, D, E]) and every per-layer tensor is stacked on a leading
`layers` axis, matching the nn.scan in `Transformer`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from r1jax.models.config import ModelConfig, RopeScaling

ARCHITECTURES = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}
SEQUENCE_CLASSIFICATION = {"llama": "LlamaForSequenceClassification", "qwen2": "Qwen2ForSequenceClassification",
                           "qwen3": "Qwen3ForSequenceClassification"}
# What sits on top of the decoder: "lm" (a causal LM: lm_head, params as `Transformer`'s), "score" (a reward model:
# score.weight [1, E], params as `RewardModel`'s: {"backbone": ..., "score": ...}), "backbone" (the decoder alone,
# read from any checkpoint into a reward model's "backbone").
HEADS = ("lm", "score", "backbone")
SAFE_WEIGHTS = "model.safetensors"
SAFE_INDEX = "model.safetensors.index.json"
_MISSING = object()


class CheckpointError(ValueError):
  """A Hugging Face checkpoint r1jax cannot load faithfully (the message names the file and the key)."""


# ----------------------------------------------------------------------------------------------------- config


def _field(raw: dict, key: str, kind: type | tuple[type, ...], file: Path, default: Any = _MISSING) -> Any:
  """raw[key], checked to be of `kind` (bool is never accepted as a number)."""
  if key not in raw or raw[key] is None:
    if default is _MISSING:
      raise CheckpointError(f"{file}: required field {key!r} is missing")
    return default
  value = raw[key]
  kinds = kind if isinstance(kind, tuple) else (kind,)
  ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
  if not ok:
    names = "/".join(k.__name__ for k in kinds)
    raise CheckpointError(f"{file}: field {key!r} must be {names}, got {type(value).__name__} {value!r}")
  return value


# The fields each supported rope_type reads from an HF config (required ones first: their absence is an error).
_ROPE_FIELDS = {
    "llama3": (("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"), ()),
    "linear": (("factor",), ()),
    "yarn": (("factor", "original_max_position_embeddings"),
             ("beta_fast", "beta_slow", "attention_factor", "mscale", "mscale_all_dim", "truncate")),
}


def _rope_from_raw(raw: dict, file: Path) -> tuple[float, RopeScaling | None]:
  """rope_theta and scaling from either transformers>=5 `rope_parameters` or the older `rope_theta`/`rope_scaling`."""
  key = "rope_parameters" if raw.get("rope_parameters") is not None else "rope_scaling"
  params = _field(raw, key, dict, file, default={})
  theta = params.get("rope_theta", raw.get("rope_theta", 10000.0))
  if isinstance(theta, bool) or not isinstance(theta, (int, float)):
    raise CheckpointError(f"{file}: field 'rope_theta' must be a number, got {theta!r}")
  partial = params.get("partial_rotary_factor", raw.get("partial_rotary_factor", 1.0))
  if partial != 1.0:
    raise CheckpointError(f"{file}: field 'partial_rotary_factor'={partial!r} is not supported (only 1.0: RoPE on "
                          "the whole head_dim)")
  rope_type = params.get("rope_type", params.get("type", "default"))
  if rope_type in (None, "default"):
    return float(theta), None
  if rope_type not in _ROPE_FIELDS:
    raise CheckpointError(f"{file}: unsupported rope scaling {rope_type!r} in field {key!r} "
                          f"(supported: none/'default', {', '.join(repr(t) for t in _ROPE_FIELDS)})")
  required, optional = _ROPE_FIELDS[rope_type]
  missing = [name for name in required if params.get(name) is None]
  if missing:
    raise CheckpointError(f"{file}: field {key!r} with rope_type {rope_type!r} lacks {', '.join(map(repr, missing))}")
  kinds = {"truncate": bool, "original_max_position_embeddings": int}
  values = {name: _field(params, name, kinds.get(name, (int, float)), file)
            for name in (*required, *optional) if params.get(name) is not None}
  values = {name: v if name in kinds else float(v) for name, v in values.items()}
  try:
    scaling = RopeScaling(rope_type=rope_type, **values)
  except (TypeError, ValueError) as e:
    raise CheckpointError(f"{file}: field {key!r}: {e}") from None
  return float(theta), scaling


def _rope_to_hf(rs: RopeScaling | None) -> dict | None:
  """The HF `rope_scaling` dict of a scaling: its type and the fields that type reads (see `_ROPE_FIELDS`)."""
  if rs is None:
    return None
  required, optional = _ROPE_FIELDS[rs.rope_type]
  out = {"rope_type": rs.rope_type}
  out.update({name: getattr(rs, name) for name in (*required, *optional) if getattr(rs, name) is not None})
  return out


def config_from_hf_dict(raw: dict, file: Path | str = "config.json", **overrides: Any) -> ModelConfig:
  """ModelConfig from the contents of an HF config.json (transformers 4 or 5 layout)."""
  file = Path(file)
  model_type = _field(raw, "model_type", str, file)
  if model_type not in ARCHITECTURES:
    raise CheckpointError(f"{file}: unsupported model_type {model_type!r}; supported: {sorted(ARCHITECTURES)}")
  supported = sorted([*ARCHITECTURES.values(), *SEQUENCE_CLASSIFICATION.values()])
  for arch in _field(raw, "architectures", list, file, default=[]):
    if arch not in supported:
      raise CheckpointError(f"{file}: unsupported architecture {arch!r} in field 'architectures'; "
                            f"supported: {supported}")
  act = _field(raw, "hidden_act", str, file, default="silu")
  if act != "silu":
    raise CheckpointError(f"{file}: field 'hidden_act'={act!r} is not supported (only 'silu')")
  if _field(raw, "use_sliding_window", bool, file, default=False):
    raise CheckpointError(f"{file}: field 'use_sliding_window'=true is not supported")
  layer_types = _field(raw, "layer_types", list, file, default=[])
  if any(lt != "full_attention" for lt in layer_types):
    raise CheckpointError(f"{file}: field 'layer_types' has non-full attention layers: {sorted(set(layer_types))}")
  for key in ("mlp_bias", "attention_bias") if model_type != "qwen2" else ("mlp_bias",):
    if _field(raw, key, bool, file, default=False):
      raise CheckpointError(f"{file}: field {key!r}=true is not supported for model_type {model_type!r}")

  hidden = _field(raw, "hidden_size", int, file)
  heads = _field(raw, "num_attention_heads", int, file)
  rope_theta, rope_scaling = _rope_from_raw(raw, file)
  eos = _field(raw, "eos_token_id", (int, list), file, default=None)
  kwargs = dict(
      vocab_size=_field(raw, "vocab_size", int, file),
      hidden_size=hidden,
      intermediate_size=_field(raw, "intermediate_size", int, file),
      num_layers=_field(raw, "num_hidden_layers", int, file),
      num_heads=heads,
      num_kv_heads=_field(raw, "num_key_value_heads", int, file, default=heads),
      head_dim=_field(raw, "head_dim", int, file, default=None),
      rope_theta=rope_theta,
      rope_scaling=rope_scaling,
      rms_norm_eps=float(_field(raw, "rms_norm_eps", (int, float), file, default=1e-6)),
      tie_word_embeddings=_field(raw, "tie_word_embeddings", bool, file, default=False),
      qkv_bias=model_type == "qwen2",
      qk_norm=model_type == "qwen3",
      max_position_embeddings=_field(raw, "max_position_embeddings", int, file, default=4096),
      model_type=model_type,
      bos_token_id=_field(raw, "bos_token_id", int, file, default=None),
      eos_token_id=tuple(eos) if isinstance(eos, list) else eos,
      pad_token_id=_field(raw, "pad_token_id", int, file, default=None),
  )
  kwargs.update(overrides)
  try:
    return ModelConfig(**kwargs)
  except ValueError as e:
    raise CheckpointError(f"{file}: {e}") from None


def config_to_hf_dict(cfg: ModelConfig, head: str = "lm") -> dict:
  """The config.json transformers writes for this model (through its own config class, so versions agree).

  head "score": a `...ForSequenceClassification` config with `num_labels=1` (a reward model)."""
  from transformers import AutoConfig  # imports no torch

  rope_scaling = _rope_to_hf(cfg.rope_scaling)
  eos = list(cfg.eos_token_id) if isinstance(cfg.eos_token_id, tuple) else cfg.eos_token_id
  hf_cfg = AutoConfig.for_model(
      cfg.model_type, vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size,
      intermediate_size=cfg.intermediate_size, num_hidden_layers=cfg.num_layers,
      num_attention_heads=cfg.num_heads, num_key_value_heads=cfg.num_kv_heads, head_dim=cfg.head_dim,
      rope_theta=cfg.rope_theta, rope_scaling=rope_scaling, rms_norm_eps=cfg.rms_norm_eps,
      tie_word_embeddings=cfg.tie_word_embeddings, max_position_embeddings=cfg.max_position_embeddings,
      bos_token_id=cfg.bos_token_id, eos_token_id=eos, pad_token_id=cfg.pad_token_id, hidden_act="silu",
      torch_dtype=cfg.param_dtype, **_head_config(cfg, head))
  return hf_cfg.to_dict()


def _head_config(cfg: ModelConfig, head: str) -> dict:
  if head == "lm":
    return {"architectures": [ARCHITECTURES[cfg.model_type]]}
  if head == "score":
    return {"architectures": [SEQUENCE_CLASSIFICATION[cfg.model_type]], "num_labels": 1}
  raise ValueError(f"a checkpoint is saved with head 'lm' or 'score', got {head!r}")


# ----------------------------------------------------------------------------------------------------- weights


def _check_head(head: str) -> None:
  if head not in HEADS:
    raise ValueError(f"unknown head {head!r}; valid: {HEADS}")


def _weight_map(cfg: ModelConfig, head: str = "lm") -> dict[str, tuple[tuple[str, ...], Callable, Callable, bool]]:
  """HF name pattern -> (r1jax param path, hf->r1jax transform, r1jax->hf transform, per_layer)."""
  _check_head(head)
  e, d, h, kv = cfg.hidden_size, cfg.head_dim, cfg.num_heads, cfg.num_kv_heads
  ident = lambda w: w  # noqa: E731
  transpose = lambda w: w.T  # noqa: E731

  def heads_in(n):
    return (lambda w: w.T.reshape(e, n, d)), (lambda k: k.reshape(e, n * d).T)

  def heads_bias(n):
    return (lambda b: b.reshape(n, d)), (lambda b: b.reshape(n * d))

  o_in, o_out = (lambda w: w.T.reshape(h, d, e)), (lambda k: k.reshape(h * d, e).T)
  m: dict[str, tuple] = {"model.embed_tokens.weight": (("embed", "embedding"), ident, ident, False),
                         "model.norm.weight": (("final_norm", "scale"), ident, ident, False)}
  p = "model.layers.{i}."
  for name, n in (("q_proj", h), ("k_proj", kv), ("v_proj", kv)):
    m[p + f"self_attn.{name}.weight"] = (("layers", "attn", name, "kernel"), *heads_in(n), True)
    if cfg.qkv_bias:
      m[p + f"self_attn.{name}.bias"] = (("layers", "attn", name, "bias"), *heads_bias(n), True)
  m[p + "self_attn.o_proj.weight"] = (("layers", "attn", "o_proj", "kernel"), o_in, o_out, True)
  if cfg.qk_norm:
    m[p + "self_attn.q_norm.weight"] = (("layers", "attn", "q_norm", "scale"), ident, ident, True)
    m[p + "self_attn.k_norm.weight"] = (("layers", "attn", "k_norm", "scale"), ident, ident, True)
  for name in ("gate_proj", "up_proj", "down_proj"):
    m[p + f"mlp.{name}.weight"] = (("layers", "mlp", name, "kernel"), transpose, transpose, True)
  m[p + "input_layernorm.weight"] = (("layers", "input_norm", "scale"), ident, ident, True)
  m[p + "post_attention_layernorm.weight"] = (("layers", "post_attn_norm", "scale"), ident, ident, True)
  if head == "lm":
    if not cfg.tie_word_embeddings:
      m["lm_head.weight"] = (("lm_head", "kernel"), transpose, transpose, False)
    return m
  m = {name: (("backbone", *keys), to_r1, to_hf, per_layer) for name, (keys, to_r1, to_hf, per_layer) in m.items()}
  if head == "score":  # HF score.weight [1, E] <-> kernel [E, 1]
    m["score.weight"] = (("score", "kernel"), transpose, transpose, False)
  return m


def _expected_hf_shapes(cfg: ModelConfig, head: str = "lm") -> dict[str, tuple[int, ...]]:
  """Every tensor name a checkpoint of `cfg` (with `head`) must hold, with its HF shape."""
  e, d, i, v = cfg.hidden_size, cfg.head_dim, cfg.intermediate_size, cfg.vocab_size
  hd, kvd = cfg.num_heads * d, cfg.num_kv_heads * d
  per_layer = {"self_attn.q_proj.weight": (hd, e), "self_attn.k_proj.weight": (kvd, e),
               "self_attn.v_proj.weight": (kvd, e), "self_attn.o_proj.weight": (e, hd),
               "mlp.gate_proj.weight": (i, e), "mlp.up_proj.weight": (i, e), "mlp.down_proj.weight": (e, i),
               "input_layernorm.weight": (e,), "post_attention_layernorm.weight": (e,)}
  if cfg.qkv_bias:
    per_layer.update({"self_attn.q_proj.bias": (hd,), "self_attn.k_proj.bias": (kvd,),
                      "self_attn.v_proj.bias": (kvd,)})
  if cfg.qk_norm:
    per_layer.update({"self_attn.q_norm.weight": (d,), "self_attn.k_norm.weight": (d,)})
  shapes = {"model.embed_tokens.weight": (v, e), "model.norm.weight": (e,)}
  if head == "lm" and not cfg.tie_word_embeddings:
    shapes["lm_head.weight"] = (v, e)
  if head == "score":
    shapes["score.weight"] = (1, e)
  for layer in range(cfg.num_layers):
    shapes.update({f"model.layers.{layer}.{k}": s for k, s in per_layer.items()})
  return shapes


def _tensor_files(path: Path) -> dict[str, Path]:
  """Tensor name -> safetensors file, from the index if there is one."""
  index = path / SAFE_INDEX
  if index.exists():
    try:
      weight_map = json.loads(index.read_text())["weight_map"]
    except (json.JSONDecodeError, KeyError) as e:
      raise CheckpointError(f"{index}: not a safetensors index with a 'weight_map' ({e})") from None
    return {name: path / fname for name, fname in weight_map.items()}
  files = [path / SAFE_WEIGHTS] if (path / SAFE_WEIGHTS).exists() else sorted(path.glob("*.safetensors"))
  if not files:
    raise CheckpointError(f"{path}: no *.safetensors weights found (PyTorch .bin checkpoints are not supported; "
                          "convert them with transformers' save_pretrained(safe_serialization=True))")
  names: dict[str, Path] = {}
  for f in files:
    with _open_safetensors(f) as sf:
      names.update({k: f for k in sf.keys()})
  return names


def _open_safetensors(f: Path):
  """safe_open(f), or CheckpointError naming the file (safetensors' own errors do not)."""
  try:
    return safe_open(f, framework="numpy")
  except Exception as e:  # SafetensorError, OSError: a truncated or damaged file
    raise CheckpointError(f"{f}: not a readable safetensors file ({type(e).__name__}: {e})") from None


def _read_tensor(handle: Any, name: str, f: Path) -> np.ndarray:
  """One tensor of an open safetensors file; errors name the file and the tensor."""
  try:
    return handle.get_tensor(name)
  except Exception as e:  # SafetensorError: data that does not match its header
    raise CheckpointError(f"{f}: tensor {name!r} cannot be read ({type(e).__name__}: {e})") from None


def _check_finite(arr: np.ndarray, name: str, f: Path) -> None:
  """A tensor with NaN or inf values makes every output NaN: an error naming the file, the tensor and the count."""
  finite = np.isfinite(arr)
  if not finite.all():
    bad = arr[~finite]
    kinds = " and ".join(k for k, has in (("NaN", np.isnan(bad).any()), ("inf", np.isinf(bad).any())) if has)
    raise CheckpointError(f"{f}: tensor {name!r} has {bad.size} non-finite values ({kinds}) of {arr.size}; a model "
                          "with them computes NaN (was it saved from a run that diverged?)")


_IGNORED = re.compile(r"(^|\.)rotary_emb\.inv_freq$")


def _set_path(tree: dict, keys: tuple[str, ...], value: Any) -> None:
  for k in keys[:-1]:
    tree = tree.setdefault(k, {})
  tree[keys[-1]] = value


def is_hf_dir(path: str | os.PathLike) -> bool:
  """Whether `path` holds a Hugging Face checkpoint: a config.json beside *.safetensors weights."""
  path = Path(path)
  return (path / "config.json").is_file() and any(path.glob("*.safetensors"))


def load_pretrained(path: str | os.PathLike, dtype: Any = jnp.float32, compute_dtype: Any = None,
                    shardings: Any = None, check_finite: bool = True) -> tuple[ModelConfig, dict]:
  """Load an HF Llama/Qwen2/Qwen3 directory. -> (cfg, params) with params stored in `dtype`.

  Every tensor's presence and shape is checked against config.json before any weight is read, so a bad
  checkpoint fails whole with the names of all its problems. `shardings`, a pytree like the params of
  `jax.sharding.Sharding`s, places each tensor directly where it belongs. A damaged file, or (with `check_finite`)
  a tensor holding NaN or inf, is a CheckpointError naming the file and the tensor.
  """
  cfg = _read_config(Path(path), dtype, compute_dtype)
  return cfg, _place(_read_weights(Path(path), cfg, "lm", check_finite), shardings)


def load_reward_model(path: str | os.PathLike, dtype: Any = jnp.float32, compute_dtype: Any = None,
                      shardings: Any = None, rng: jax.Array | None = None) -> tuple[ModelConfig, dict]:
  """A reward model (`r1jax.models.RewardModel` params) from an HF directory. -> (cfg, params).

  A `...ForSequenceClassification` checkpoint with one label (what `save_reward_model` writes) loads whole. Any
  other checkpoint of the family (a causal LM: an SFT model, a base model) gives the backbone, and the score head
  is initialised from `rng`, which must then be given: a reward model with a random head is only a starting point
  for training, never something to score with by accident.
  """
  from r1jax.models import reward_model  # the module builds on transformer.py; hf.py itself needs no Flax

  path = Path(path)
  cfg = _read_config(path, dtype, compute_dtype)
  if "score.weight" in _tensor_files(path):
    params = _read_weights(path, cfg, "score")
  elif rng is None:
    raise CheckpointError(f"{path}: has no 'score.weight', so it is not a reward model; pass rng= to start one "
                          "from this checkpoint's backbone with a new score head")
  else:
    params = reward_model.init_params(cfg, rng, backbone=_read_weights(path, cfg, "backbone")["backbone"])
  return cfg, _place(params, shardings)


def _read_config(path: Path, dtype: Any, compute_dtype: Any) -> ModelConfig:
  cfg_file = path / "config.json"
  if not cfg_file.exists():
    raise CheckpointError(f"{cfg_file}: not found (expected a Hugging Face model directory)")
  try:
    raw = json.loads(cfg_file.read_text())
  except json.JSONDecodeError as e:
    raise CheckpointError(f"{cfg_file}: invalid JSON ({e})") from None
  dtype_name = jnp.dtype(dtype).name
  return config_from_hf_dict(raw, cfg_file, param_dtype=dtype_name,
                             dtype=jnp.dtype(compute_dtype).name if compute_dtype is not None else dtype_name)


def _place(params: dict, shardings: Any) -> dict:
  if shardings is None:
    return jax.tree.map(jnp.asarray, params)
  return jax.tree.map(jax.device_put, params, shardings)


def _read_weights(path: Path, cfg: ModelConfig, head: str, check_finite: bool = True) -> dict:
  """Host (numpy) params of `head` (see HEADS), every tensor checked against `cfg` before any is read (and, with
  `check_finite`, each one for NaN / inf as it is read)."""
  files = _tensor_files(path)
  expected = _expected_hf_shapes(cfg, head)
  # Heads that are not read: a tied checkpoint's spare lm_head, an LM's head when only the backbone is wanted.
  not_read = {"lm": {"lm_head.weight"} if cfg.tie_word_embeddings else set(), "score": set(),
              "backbone": {"lm_head.weight", "score.weight"}}[head]
  problems = []
  missing = sorted(set(expected) - set(files))
  if missing:
    problems.append(f"missing tensors {missing[:8]}{' ...' if len(missing) > 8 else ''}")
  unexpected = sorted(n for n in set(files) - set(expected) if not _IGNORED.search(n) and n not in not_read)
  if unexpected:
    problems.append(f"unexpected tensors {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}")
  handles: dict[Path, Any] = {}
  try:
    for f in sorted(set(files.values())):
      if not f.exists():
        raise CheckpointError(f"{f}: listed in {SAFE_INDEX} but does not exist")
      handles[f] = _open_safetensors(f)
    for name, shape in expected.items():
      if name in files:
        got = tuple(handles[files[name]].get_slice(name).get_shape())
        if got != shape:
          problems.append(f"tensor {name!r} in {files[name].name} has shape {got}, expected {shape}")
    if problems:
      raise CheckpointError(f"{path}: checkpoint does not match config.json: " + "; ".join(problems))

    np_dtype = np.dtype(ml_dtypes.bfloat16) if cfg.param_dtype == "bfloat16" else np.dtype(cfg.param_dtype)

    def tensor(name: str) -> np.ndarray:
      arr = _read_tensor(handles[files[name]], name, files[name])
      if check_finite:
        _check_finite(arr, name, files[name])
      return arr

    params: dict = {}
    for pattern, (keys, to_r1, _, per_layer) in _weight_map(cfg, head).items():
      if per_layer:
        arr = np.stack([to_r1(tensor(pattern.format(i=i))).astype(np_dtype) for i in range(cfg.num_layers)])
      else:
        arr = to_r1(tensor(pattern)).astype(np_dtype)
      _set_path(params, keys, arr)
  finally:
    handles.clear()
  return params


def _get_path(tree: dict, keys: tuple[str, ...]) -> Any:
  for k in keys:
    if not isinstance(tree, dict) or k not in tree:
      raise KeyError("/".join(keys))
    tree = tree[k]
  return tree


# Files of a tokenizer as transformers writes them. A save that writes a tokenizer replaces all of them: a file of
# an earlier tokenizer left beside the new one (a vocab.json, a chat_template.jinja) would be read with it.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "chat_template.jinja", "chat_template.json", "additional_chat_templates", "vocab.json",
                   "merges.txt", "tokenizer.model")


def save_pretrained(path: str | os.PathLike, cfg: ModelConfig, params: dict, max_shard_bytes: int = 5 * 2**30,
                    dtype: Any = None, extra_files: Callable[[Path], None] | None = None) -> Path:
  """Write config.json, generation_config.json and safetensors (sharded with an index above `max_shard_bytes`).

  `extra_files(staging)` is called once these are written to the staging directory, before anything is moved into
  place: it writes further files there (a tokenizer) and may raise to abort the save. Files are staged in a
  temporary directory beside `path` and published only when all are written, so an interrupted save never leaves a
  checkpoint that looks complete: a new `path` appears whole (one rename); an existing one loses its config.json
  first and gets the new one last.
  """
  return _save(path, cfg, params, "lm", max_shard_bytes, dtype, extra_files)


def save_reward_model(path: str | os.PathLike, cfg: ModelConfig, params: dict, max_shard_bytes: int = 5 * 2**30,
                      dtype: Any = None, extra_files: Callable[[Path], None] | None = None) -> Path:
  """Write a reward model (`RewardModel` params) as a `...ForSequenceClassification` checkpoint with one label,
  loadable by `load_reward_model` and by transformers.AutoModelForSequenceClassification (same scores); staged and
  published like `save_pretrained`."""
  return _save(path, cfg, params, "score", max_shard_bytes, dtype, extra_files)


def _save(path: str | os.PathLike, cfg: ModelConfig, params: dict, head: str, max_shard_bytes: int, dtype: Any,
          extra_files: Callable[[Path], None] | None) -> Path:
  path = Path(path)
  out_dtype = np.dtype(ml_dtypes.bfloat16) if jnp.dtype(dtype or cfg.param_dtype).name == "bfloat16" else (
      np.dtype(jnp.dtype(dtype or cfg.param_dtype).name))
  host = jax.device_get(params)
  tensors: dict[str, np.ndarray] = {}
  for pattern, (keys, _, to_hf, per_layer) in _weight_map(cfg, head).items():
    try:
      arr = np.asarray(_get_path(host, keys))
    except KeyError as e:
      raise ValueError(f"params lack {e.args[0]!r}, which {cfg.model_type} checkpoints with head {head!r} need"
                       ) from None
    if per_layer:
      for i in range(cfg.num_layers):
        tensors[pattern.format(i=i)] = np.ascontiguousarray(to_hf(arr[i]).astype(out_dtype))
    else:
      tensors[pattern] = np.ascontiguousarray(to_hf(arr).astype(out_dtype))
  expected = _expected_hf_shapes(cfg, head)
  for name, arr in tensors.items():
    if arr.shape != expected[name]:
      raise ValueError(f"param for {name!r} has shape {arr.shape} after conversion, expected {expected[name]}")

  shards: list[dict[str, np.ndarray]] = [{}]
  size = 0
  for name, arr in tensors.items():
    if shards[-1] and size + arr.nbytes > max_shard_bytes:
      shards.append({})
      size = 0
    shards[-1][name] = arr
    size += arr.nbytes

  path.parent.mkdir(parents=True, exist_ok=True)
  staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.r1jax-save-", dir=path.parent))
  try:
    names = ([SAFE_WEIGHTS] if len(shards) == 1 else
             [f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors" for k in range(len(shards))])
    for fname, shard in zip(names, shards):
      save_file(shard, str(staging / fname), metadata={"format": "pt"})
    if len(shards) > 1:
      index = {"metadata": {"total_size": int(sum(a.nbytes for a in tensors.values()))},
               "weight_map": {n: fname for fname, shard in zip(names, shards) for n in shard}}
      (staging / SAFE_INDEX).write_text(json.dumps(index, indent=2))
    (staging / "config.json").write_text(json.dumps(config_to_hf_dict(cfg, head), indent=2, sort_keys=True))
    gen = {"bos_token_id": cfg.bos_token_id, "eos_token_id": (list(cfg.eos_token_id)
                                                              if isinstance(cfg.eos_token_id, tuple)
                                                              else cfg.eos_token_id)}
    if cfg.pad_token_id is not None:
      gen["pad_token_id"] = cfg.pad_token_id
    (staging / "generation_config.json").write_text(json.dumps(gen, indent=2))
    if extra_files is not None:
      extra_files(staging)
    _publish(staging, path)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  return path


def _publish(staging: Path, path: Path) -> None:
  """Moves the files of `staging` into `path`, so that `path` has a config.json only while it is complete."""
  if not path.exists():
    os.rename(staging, path)
    return
  # Old weights of another sharding would be picked up by loaders that glob, and the files of an earlier tokenizer
  # by tokenizer loaders: remove them. config.json goes first and comes back last.
  stale = [path / "config.json", path / SAFE_INDEX, *path.glob("model*.safetensors")]
  if (staging / "tokenizer_config.json").exists():
    stale += [path / name for name in TOKENIZER_FILES]
  for f in stale:
    if f.is_dir():
      shutil.rmtree(f)
    elif f.exists():
      f.unlink()
  for f in sorted(staging.iterdir(), key=lambda f: f.name == "config.json"):
    os.replace(f, path / f.name)
