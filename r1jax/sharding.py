"""One mesh, logical-axis rules as data, and helpers that place params, state and batches on it.

    mesh = make_mesh(data=2, fsdp=-1, tensor=2)                  # axes ("data", "fsdp", "tensor")
    shardings = logical_to_shardings(mesh, param_logical_axes(cfg), abstract_params, DEFAULT_RULES)

Rules are an ordered list of `(logical axis, mesh axes)`. For each dimension of a parameter the first rule naming
its logical axis whose mesh axes (a) are not already used by another dimension of the same parameter and (b) divide
the dimension's size is taken; an explicit `None` entry means "replicate". A logical axis that no rule names is an
error naming the parameter, so a new parameter can never be silently replicated.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

MESH_AXES = ("data", "fsdp", "tensor")
BATCH_AXES = ("data", "fsdp")

MeshAxes = str | tuple[str, ...] | None
Rules = Sequence[tuple[str, MeshAxes]]

# FSDP shards the embedding dimension of every weight; tensor parallelism splits heads, MLP width and vocab.
DEFAULT_RULES: tuple[tuple[str, MeshAxes], ...] = (
    ("batch", BATCH_AXES),
    ("length", None),
    ("layers", None),
    ("vocab", "tensor"),
    ("vocab", None),
    ("embed", "fsdp"),
    ("embed", None),
    ("mlp", "tensor"),
    ("mlp", None),
    ("heads", "tensor"),
    ("heads", None),
    ("kv_heads", "tensor"),
    ("kv_heads", None),
    ("head_dim", None),
)


def make_mesh(data: int = 1, fsdp: int = -1, tensor: int = 1, devices: Sequence[jax.Device] | None = None) -> Mesh:
  """Mesh with axes ("data", "fsdp", "tensor"); one size may be -1 to take the remaining devices."""
  devices = list(jax.devices() if devices is None else devices)
  sizes = {"data": data, "fsdp": fsdp, "tensor": tensor}
  free = [k for k, v in sizes.items() if v == -1]
  if len(free) > 1:
    raise ValueError(f"at most one mesh axis may be -1, got {sizes}")
  bad = {k: v for k, v in sizes.items() if v != -1 and (not isinstance(v, int) or v < 1)}
  if bad:
    raise ValueError(f"mesh axis sizes must be positive ints or -1, got {bad}")
  fixed = math.prod(v for v in sizes.values() if v != -1)
  if free:
    if len(devices) % fixed:
      raise ValueError(f"{len(devices)} devices cannot be split into mesh {sizes}")
    sizes[free[0]] = len(devices) // fixed
  if math.prod(sizes.values()) != len(devices):
    raise ValueError(f"mesh {sizes} needs {math.prod(sizes.values())} devices, found {len(devices)}")
  shape = tuple(sizes[a] for a in MESH_AXES)
  # Auto axes: shardings are constraints that XLA propagates (the jit-with-shardings model), not the
  # "explicit sharding" typing that newer jax makes the default for jax.make_mesh.
  auto = getattr(jax.sharding, "AxisType", None)
  kwargs = {"axis_types": (auto.Auto,) * len(MESH_AXES)} if auto is not None else {}
  return jax.make_mesh(shape, MESH_AXES, devices=devices, **kwargs)


def _mesh_size(mesh: Mesh, axes: MeshAxes) -> int:
  if axes is None:
    return 1
  axes = (axes,) if isinstance(axes, str) else axes
  return math.prod(mesh.shape[a] for a in axes)


def logical_to_mesh_spec(logical: Sequence[str | None], shape: Sequence[int], mesh: Mesh, rules: Rules,
                         name: str = "<array>") -> PartitionSpec:
  """PartitionSpec over mesh axes for one array with logical axis names `logical` and `shape`."""
  if len(logical) != len(shape):
    raise ValueError(f"{name}: {len(logical)} logical axes {tuple(logical)} for shape {tuple(shape)}")
  used: set[str] = set()
  spec = []
  for axis, size in zip(logical, shape):
    if axis is None:
      spec.append(None)
      continue
    candidates = [mesh_axes for rule_axis, mesh_axes in rules if rule_axis == axis]
    if not candidates:
      raise ValueError(f"{name}: no sharding rule for logical axis {axis!r} (rules name "
                       f"{sorted({r for r, _ in rules})})")
    for mesh_axes in candidates:
      flat = () if mesh_axes is None else ((mesh_axes,) if isinstance(mesh_axes, str) else tuple(mesh_axes))
      if used & set(flat) or size % _mesh_size(mesh, mesh_axes):
        continue
      used |= set(flat)
      spec.append(mesh_axes)
      break
    else:
      raise ValueError(f"{name}: dimension {axis!r} of size {size} fits none of its rules {candidates} on mesh "
                       f"{dict(mesh.shape)}; add a rule like ({axis!r}, None) to replicate it")
  return PartitionSpec(*spec)


def _path_name(path) -> str:
  return "/".join(str(getattr(k, "key", getattr(k, "name", k))) for k in path)


def logical_to_shardings(mesh: Mesh, logical_axes: Any, shapes: Any, rules: Rules = DEFAULT_RULES) -> Any:
  """NamedSharding pytree for `shapes` (arrays or ShapeDtypeStructs) whose logical axis names are `logical_axes`.

  `logical_axes` is a pytree of PartitionSpecs of logical names (as `flax.linen.get_partition_spec` returns),
  with the same structure as `shapes`.
  """
  is_spec = lambda x: isinstance(x, PartitionSpec)  # noqa: E731
  flat_axes, treedef = jax.tree.flatten(logical_axes, is_leaf=is_spec)
  flat_shapes = jax.tree_util.tree_flatten_with_path(shapes)[0]
  if len(flat_axes) != len(flat_shapes):
    raise ValueError(f"logical axes ({len(flat_axes)} leaves) and shapes ({len(flat_shapes)} leaves) differ")
  out = []
  for spec, (path, leaf) in zip(flat_axes, flat_shapes):
    shape = np.shape(leaf)
    logical = tuple(spec) + (None,) * (len(shape) - len(spec))
    out.append(NamedSharding(mesh, logical_to_mesh_spec(logical, shape, mesh, rules, _path_name(path))))
  return jax.tree.unflatten(treedef, out)


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh, ndim: int = 2) -> NamedSharding:
  """Leading (batch) dimension over ("data", "fsdp"), the rest replicated."""
  return NamedSharding(mesh, PartitionSpec(BATCH_AXES, *([None] * (ndim - 1))))


def shard_batch(mesh: Mesh, batch: Any) -> Any:
  """Place a host batch (pytree of [B, ...] arrays, the same on every host) with its batch dim over the mesh."""
  n = _mesh_size(mesh, BATCH_AXES)
  for leaf in jax.tree.leaves(batch):
    if np.ndim(leaf) == 0 or np.shape(leaf)[0] % n:
      raise ValueError(f"batch leaf of shape {np.shape(leaf)} cannot be split over {n} data-parallel shards")
  return jax.tree.map(lambda x: jax.device_put(x, batch_sharding(mesh, np.ndim(x))), batch)


def host_local_batch_to_global(mesh: Mesh, local_batch: Any) -> Any:
  """Assemble a global batch from each host's own rows (multi-host feeding): [B/hosts, ...] -> global [B, ...]."""
  return jax.tree.map(
      lambda x: jax.make_array_from_process_local_data(batch_sharding(mesh, np.ndim(x)), np.asarray(x)),
      local_batch)


def maybe_initialize_distributed(enabled: bool, coordinator_address: str | None = None,
                                 num_processes: int | None = None, process_id: int | None = None) -> None:
  """`jax.distributed.initialize()` for multi-host runs (arguments are auto-detected on TPU/SLURM when None)."""
  if not enabled:
    return
  kwargs = {k: v for k, v in dict(coordinator_address=coordinator_address or os.environ.get("R1JAX_COORDINATOR"),
                                  num_processes=num_processes, process_id=process_id).items() if v is not None}
  jax.distributed.initialize(**kwargs)
