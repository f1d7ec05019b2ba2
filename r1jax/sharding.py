"""One mesh, logical-axis rules as data, and helpers that place params, state and batches on it.

    mesh = make_mesh(data=2, fsdp=-1, tensor=2)                  # axes ("data", "fsdp", "tensor")
    shardings = logical_to_shardings(mesh, param_logical_axes(cfg), abstract_params, DEFAULT_RULES)

Rules are an ordered list of `(logical axis, mesh axes)`. For each dimension of a parameter the first rule naming
its logical axis whose mesh axes (a) are not already used by another dimension of the same parameter and (b) divide
the dimension's size is taken; an explicit `None` entry means "replicate". A logical axis that no rule names is an
error naming the parameter, so a new parameter can never be silently replicated.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import os
from collections.abc import Callable, Sequence
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


def mesh_sizes(data: int, fsdp: int, tensor: int, n_devices: int) -> dict[str, int]:
  """{axis: size} of the mesh over `n_devices` (one size may be -1: the devices the others leave); a ValueError
  saying why when the devices cannot form it."""
  sizes = {"data": data, "fsdp": fsdp, "tensor": tensor}
  free = [k for k, v in sizes.items() if v == -1]
  if len(free) > 1:
    raise ValueError(f"at most one mesh axis may be -1, got {sizes}")
  bad = {k: v for k, v in sizes.items() if v != -1 and (not isinstance(v, int) or v < 1)}
  if bad:
    raise ValueError(f"mesh axis sizes must be positive ints or -1, got {bad}")
  fixed = math.prod(v for v in sizes.values() if v != -1)
  if free:
    if n_devices % fixed:
      raise ValueError(f"{n_devices} devices cannot be split into mesh {sizes}")
    sizes[free[0]] = n_devices // fixed
  if math.prod(sizes.values()) != n_devices:
    raise ValueError(f"mesh {sizes} needs {math.prod(sizes.values())} devices, found {n_devices}")
  return sizes


def make_mesh(data: int = 1, fsdp: int = -1, tensor: int = 1, devices: Sequence[jax.Device] | None = None) -> Mesh:
  """Mesh with axes ("data", "fsdp", "tensor"); one size may be -1 to take the remaining devices."""
  devices = list(jax.devices() if devices is None else devices)
  sizes = mesh_sizes(data, fsdp, tensor, len(devices))
  shape = tuple(sizes[a] for a in MESH_AXES)
  # Auto axes: shardings are constraints that XLA propagates (the jit-with-shardings model), not the
  # "explicit sharding" typing that newer jax makes the default for jax.make_mesh.
  auto = getattr(jax.sharding, "AxisType", None)
  kwargs = {"axis_types": (auto.Auto,) * len(MESH_AXES)} if auto is not None else {}
  return jax.make_mesh(shape, MESH_AXES, devices=devices, **kwargs)


def mesh_size(mesh: Mesh, axes: MeshAxes) -> int:
  """Devices along `axes` (a mesh axis name, a tuple of them, or None: 1)."""
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
      if used & set(flat) or size % mesh_size(mesh, mesh_axes):
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
  """Place a host batch (pytree of [B, ...] arrays, the same on every host) with its batch dim over the mesh.

  On several hosts each puts only the rows its own devices hold (`jax.device_put` of the same global numpy array on
  every process).
  """
  n = mesh_size(mesh, BATCH_AXES)
  for leaf in jax.tree.leaves(batch):
    if np.ndim(leaf) == 0 or np.shape(leaf)[0] % n:
      raise ValueError(f"batch leaf of shape {np.shape(leaf)} cannot be split over {n} data-parallel shards")
  return jax.tree.map(lambda x: jax.device_put(x, batch_sharding(mesh, np.ndim(x))), batch)


def divides_batch(mesh: Mesh, rows: int) -> bool:
  """Whether `rows` split evenly over the mesh's data-parallel axes ("data", "fsdp")."""
  return rows % mesh_size(mesh, BATCH_AXES) == 0


def place_batch(mesh: Mesh, batch: Any) -> Any:
  """`shard_batch` when the rows divide over the data-parallel axes, else the batch replicated on the mesh.

  For batches whose size the run does not choose (held-out prompts, a short DAPO batch, on-policy samples): every
  device then computes all rows, which is exact and only slower.
  """
  rows = {np.shape(x)[0] for x in jax.tree.leaves(batch)}
  if len(rows) == 1 and divides_batch(mesh, rows.pop()):
    return shard_batch(mesh, batch)
  return jax.tree.map(lambda x: jax.device_put(x, replicated(mesh)), batch)


def batch_placer(mesh: Mesh) -> Callable[[Any], Any]:
  """`place_batch` bound to `mesh`: the `shard_fn` of `rollout.sample`."""
  return functools.partial(place_batch, mesh)


def process_rows(mesh: Mesh, rows: int) -> slice:
  """The rows of a global [rows, ...] batch that this process's devices hold (all of them on one host)."""
  spans = batch_sharding(mesh, 1).addressable_devices_indices_map((rows,)).values()
  starts = [s[0].start or 0 for s in spans]
  stops = [rows if s[0].stop is None else s[0].stop for s in spans]
  return slice(min(starts), max(stops))


def host_local_batch_to_global(mesh: Mesh, local_batch: Any, global_rows: int | None = None) -> Any:
  """Assemble a global batch from each host's own rows (multi-host feeding): [B/hosts, ...] -> global [B, ...].

  Each process passes the rows `process_rows(mesh, B)` of the global batch.
  """
  def put(x):
    x = np.asarray(x)
    shape = None if global_rows is None else (global_rows,) + x.shape[1:]
    return jax.make_array_from_process_local_data(batch_sharding(mesh, x.ndim), x, shape)

  return jax.tree.map(put, local_batch)


def to_host(tree: Any) -> Any:
  """Numpy copies of a pytree of arrays, also of arrays sharded over several processes (every process must call
  this together: it gathers the other hosts' shards)."""
  if all(getattr(x, "is_fully_addressable", True) for x in jax.tree.leaves(tree)):
    return jax.device_get(tree)
  from jax.experimental import multihost_utils

  return jax.tree.map(
      lambda x: (np.asarray(jax.device_get(x)) if getattr(x, "is_fully_addressable", True) or x.is_fully_replicated
                 else np.asarray(multihost_utils.process_allgather(x, tiled=True))), tree)


def any_process(flag: bool) -> bool:
  """True when `flag` is true on any process (every process must call this together); `flag` on one host."""
  if jax.process_count() == 1:
    return bool(flag)
  from jax.experimental import multihost_utils

  return bool(np.any(multihost_utils.process_allgather(np.asarray([bool(flag)]))))


ENV_COORDINATOR = "R1JAX_COORDINATOR"
ENV_NUM_PROCESSES = "R1JAX_NUM_PROCESSES"
ENV_PROCESS_ID = "R1JAX_PROCESS_ID"


def maybe_initialize_distributed(enabled: bool, coordinator_address: str | None = None,
                                 num_processes: int | None = None, process_id: int | None = None) -> None:
  """`jax.distributed.initialize()` for multi-host runs; a no-op when not enabled or already initialized.

  Each argument left empty (None, "", 0 processes, a negative id) is read from the environment variables
  R1JAX_COORDINATOR ("host:port" of process 0), R1JAX_NUM_PROCESSES and R1JAX_PROCESS_ID, and when those are unset
  too, JAX detects it (Cloud TPU pods, SLURM, Open MPI). Must run before anything touches a JAX device.
  """
  if not enabled or jax.distributed.is_initialized():
    return
  env = os.environ
  coordinator_address = coordinator_address or env.get(ENV_COORDINATOR) or None
  if not num_processes and env.get(ENV_NUM_PROCESSES):
    num_processes = int(env[ENV_NUM_PROCESSES])
  if (process_id is None or process_id < 0) and env.get(ENV_PROCESS_ID):
    process_id = int(env[ENV_PROCESS_ID])
  kwargs = {k: v for k, v in dict(coordinator_address=coordinator_address, num_processes=num_processes or None,
                                  process_id=None if process_id is None or process_id < 0 else process_id).items()
            if v is not None}
  if "jax_cpu_collectives_implementation" in jax.config.values:  # processes on CPU talk through gloo
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(**kwargs)


# ----------------------------------------------------------------------------------------------------- activations

_ACTIVATIONS: contextvars.ContextVar[tuple[Mesh, tuple] | None] = contextvars.ContextVar("r1jax_activation_mesh",
                                                                                           default=None)


@contextlib.contextmanager
def activation_sharding(mesh: Mesh, rules: Rules = DEFAULT_RULES):
  """Within this context (at trace time), `constrain` pins activations to the mesh by the same rules as params."""
  token = _ACTIVATIONS.set((mesh, tuple(rules)))
  try:
    yield
  finally:
    _ACTIVATIONS.reset(token)


def constrain(x: jax.Array, logical: Sequence[str | None]) -> jax.Array:
  """`x` with a sharding constraint from its logical axis names, inside `activation_sharding`; else `x` unchanged.

  The model marks its hidden states ("batch", "length", "embed"): under FSDP that is "rows over (data, fsdp), the
  embedding whole", which keeps XLA from choosing to gather the activations of every device instead of a layer's
  weights (with a 128k vocabulary, a [B*T, V] float32 all-reduce per step). A shape no rule fits is left to XLA.
  """
  ctx = _ACTIVATIONS.get()
  if ctx is None:
    return x
  mesh, rules = ctx
  try:
    spec = logical_to_mesh_spec(tuple(logical), x.shape, mesh, rules)
  except ValueError:
    return x
  return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, spec))


def with_activation_sharding(fn: Callable, mesh: Mesh, rules: Rules = DEFAULT_RULES) -> Callable:
  """`fn` traced inside `activation_sharding(mesh, rules)`: wrap a loss or forward function before jitting it."""
  @functools.wraps(fn)
  def wrapped(*args, **kwargs):
    with activation_sharding(mesh, rules):
      return fn(*args, **kwargs)
  return wrapped
