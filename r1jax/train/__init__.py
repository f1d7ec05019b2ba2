"""Training machinery shared by every trainer: state, optimizer, sharded step, checkpoints, metrics."""

from r1jax.train.checkpoint import (Checkpointer, CheckpointRestoreError, CheckpointSaveError, PreemptionGuard, Stopped,
                                    abstract_like)
from r1jax.train.metrics import MetricWriter, Progress, read_metrics
from r1jax.train.state import (OptimizerConfig, TrainState, create_train_state, make_optimizer, make_schedule,
                               state_shardings, train_state_from_params)
from r1jax.train.step import (BadSteps, NonFiniteError, accumulate_gradients, all_finite, apply_update, make_train_step,
                              split_micro_batches)

__all__ = [
    "BadSteps", "CheckpointRestoreError", "CheckpointSaveError", "Checkpointer", "MetricWriter", "NonFiniteError",
    "OptimizerConfig", "PreemptionGuard", "Progress", "Stopped", "TrainState", "abstract_like",
    "accumulate_gradients", "all_finite", "apply_update", "create_train_state", "make_optimizer", "make_schedule",
    "make_train_step", "read_metrics", "split_micro_batches", "state_shardings", "train_state_from_params",
]
