"""Models that judge text: a reward model's score and a verifier's "Yes" probability, batched on device, and the
selection of the best-judged traces for rejection sampling.

    rm = RewardModelJudge(cfg, params, tokenizer, normalize="sigmoid", mesh=mesh)
    scores = rm.scores(prompts, responses)                  # [N] float, one jitted forward per batch
    total, parts, _ = rewards.combine({"reward_model": 1.0}, completions, prompt_text=contexts,
                                      registry={"reward_model": rm})

    verifier = VerifierJudge(cfg, params, tokenizer)        # any causal LM (r1jax or HF checkpoint)
    records = judge_records(records, contexts, verifier.scores, top_fraction=0.5)   # + judge_score, judge_kept

Both judges tokenize `prompt` and `response` separately (as in a rollout), left-pad each batch of `batch_size` texts
to a bucketed length (so a run compiles a few programs, not one per batch) and run one jitted forward per batch;
on a mesh the params are sharded by the same logical-axis rules as training and every batch is split over the
("data", "fsdp") axes, like any other forward pass. A text longer than `max_len` keeps its last `max_len` tokens
(the response's end and, for the verifier, the question it answers) and is counted.

Verifier score, for the verification text v = template.format(prompt=…, response=…) and the verdict tokens Y (the
first token of each `yes_words` entry) and N (of each `no_words` entry), from the logits at v's last token:

    P(Y) = Σ_{y ∈ Y} softmax(logits)[y]       score = P(Y) / (P(Y) + P(N))      (score = P(Y) when N is empty)

Reward-model score r (`r1jax.models.reward_model`: the scalar head at the last token, the text ending in EOS), then
`normalize`:

    "none"     (r − offset) / scale
    "sigmoid"  σ((r − offset) / scale)
    "zscore"   (r − mean(r)) / (std(r) + 1e-6), over the texts of one call (a GRPO step's samples routed to it)

`offset` / `scale` are constants, e.g. the mean and std of the model's scores on held-out responses (the
reward-model trainer reports them as eval/score_mean and eval/score_std).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from r1jax import sharding
from r1jax.data import batching
from r1jax.data.preferences import text_ids
from r1jax.models import ModelConfig, Transformer, param_logical_axes, reward_model, unembed

# The verification prompt. For the built-in character tokenizer the verdict word's first token is its first letter,
# so the text ends with the space before it; for BPE tokenizers end it with "Verdict:" and use " Yes" / " No".
VERIFY_TEMPLATE = ("{prompt}{response}\n\nA careful grader checks the response above. Is it correct and "
                   "well reasoned? Answer Yes or No.\nVerdict: ")
NORMALIZATIONS = ("none", "sigmoid", "zscore")
log = logging.getLogger("r1jax")


def verdict_token_ids(tokenizer: Any, words: Sequence[str]) -> tuple[int, ...]:
  """The first token of each word (encoded without special tokens), deduplicated, in order."""
  ids: list[int] = []
  for word in words:
    encoded = list(tokenizer(word, add_special_tokens=False)["input_ids"])
    if not encoded:
      raise ValueError(f"verdict word {word!r} encodes to no token")
    if encoded[0] not in ids:
      ids.append(int(encoded[0]))
  return tuple(ids)


def place_params(params: Any, logical_axes: Any, mesh: Mesh | None) -> Any:
  """Params sharded on `mesh` by the default logical-axis rules (unchanged without a mesh)."""
  if mesh is None:
    return params
  return jax.device_put(params, sharding.logical_to_shardings(mesh, logical_axes, params))


def batched_scores(fn: Callable, params: Any, token_lists: Sequence[Sequence[int]], *, batch_size: int, pad_id: int,
                   max_len: int, mesh: Mesh | None = None) -> np.ndarray:
  """`fn(params, ids [B, T], mask [B, T]) -> [B]` over every token list, in batches of exactly `batch_size` rows
  (the last one padded with empty rows), left-padded to `bucket_length(longest, make_buckets(max_len))`. -> [N]."""
  buckets = batching.make_buckets(max_len)
  out = []
  for start in range(0, len(token_lists), batch_size):
    chunk = [list(t) for t in token_lists[start:start + batch_size]]
    width = batching.bucket_length(max(len(t) for t in chunk), buckets)
    ids, mask = batching.pad_left(chunk + [[]] * (batch_size - len(chunk)), width, pad_id)
    arrays = sharding.shard_batch(mesh, (ids, mask)) if mesh is not None else (jnp.asarray(ids), jnp.asarray(mask))
    out.append(np.asarray(jax.device_get(fn(params, *arrays)), np.float32)[:len(chunk)])
  return np.concatenate(out) if out else np.zeros((0,), np.float32)


def _truncate_left(token_lists: list[list[int]], max_len: int, what: str) -> tuple[list[list[int]], int]:
  cut = sum(len(t) > max_len for t in token_lists)
  if cut:
    log.warning("%s: %d of %d texts longer than %d tokens keep their last %d", what, cut, len(token_lists),
                    max_len, max_len)
  return [t[-max_len:] for t in token_lists], cut


@functools.lru_cache(maxsize=16)
def reward_forward(cfg: ModelConfig) -> Callable:
  """The jitted `(params, ids, mask) -> scores [B]` of a reward model (one per config, shared by every judge)."""
  return jax.jit(lambda p, ids, mask: reward_model.score(cfg, p, ids, mask))


@dataclasses.dataclass(eq=False)
class RewardModelJudge:
  """A reward model as a judge of (prompt, response) texts, and as the `reward_model` reward of `rewards.combine`.

  As a reward: `judge(texts, prompt_text=[...]) -> (scores, stats)`, where texts are prefill + completion (what every
  reward judges) and prompt_text the rendered prompt before the prefill (`r1jax.rollout.score` passes it).
  """

  cfg: ModelConfig
  params: Any
  tokenizer: Any
  batch_size: int = 32
  max_len: int = 512
  normalize: str = "none"
  offset: float = 0.0
  scale: float = 1.0
  mesh: Mesh | None = None

  def __post_init__(self):
    if self.normalize not in NORMALIZATIONS:
      raise ValueError(f"normalize={self.normalize!r}; valid: {NORMALIZATIONS}")
    if not self.scale > 0:
      raise ValueError(f"scale must be > 0, got {self.scale}")
    self.params = place_params(self.params, reward_model.param_logical_axes(self.cfg), self.mesh)
    self._forward = reward_forward(self.cfg)
    self.num_truncated = 0

  def raw_scores(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """The reward model's scores r [N] of `prompt + response + EOS`."""
    tokens = [text_ids(self.tokenizer, p, r) for p, r in zip(prompts, responses, strict=True)]
    tokens, cut = _truncate_left(tokens, self.max_len, "reward model")
    self.num_truncated += cut
    return batched_scores(self._forward, self.params, tokens, batch_size=self.batch_size,
                          pad_id=batching.pad_id_of(self.tokenizer), max_len=self.max_len, mesh=self.mesh)

  def scores(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """Normalised scores [N] (see the module docstring)."""
    r = self.raw_scores(prompts, responses)
    if self.normalize == "zscore":
      return (r - r.mean()) / (r.std() + 1e-6) if len(r) else r
    z = (r - self.offset) / self.scale
    return 1.0 / (1.0 + np.exp(-z)) if self.normalize == "sigmoid" else z

  def __call__(self, texts: Sequence[str], *, prompt_text: Sequence[str]) -> tuple[list[float], dict]:
    before = self.num_truncated
    values = self.scores(prompt_text, texts)
    return values.tolist(), {"truncated": self.num_truncated - before}


def verdict_scores(cfg: ModelConfig, params: Any, input_ids: jax.Array, attention_mask: jax.Array,
                   yes_ids: Sequence[int], no_ids: Sequence[int]) -> jax.Array:
  """P(Y) / (P(Y) + P(N)) (or P(Y) when no_ids is empty) from the logits at each row's last real token. [B]."""
  hidden = Transformer(cfg).apply({"params": params}, input_ids, attention_mask=attention_mask, return_hidden=True)
  last = jnp.take_along_axis(hidden, reward_model.last_token_index(attention_mask)[:, None, None], axis=1)[:, 0]
  logp = jax.nn.log_softmax(unembed(cfg, params, last), axis=-1)  # [B, V]: the LM head on one position per row
  log_yes = jax.nn.logsumexp(logp[:, jnp.asarray(yes_ids)], axis=-1)
  if not no_ids:
    return jnp.exp(log_yes)
  log_no = jax.nn.logsumexp(logp[:, jnp.asarray(no_ids)], axis=-1)
  return jax.nn.sigmoid(log_yes - log_no)


@functools.lru_cache(maxsize=16)
def _verdict_forward(cfg: ModelConfig, yes_ids: tuple[int, ...], no_ids: tuple[int, ...]) -> Callable:
  return jax.jit(lambda p, ids, mask: verdict_scores(cfg, p, ids, mask, yes_ids, no_ids))


@dataclasses.dataclass(eq=False)
class VerifierJudge:
  """A causal LM as a verifier: the probability of "Yes" after a verification prompt (module docstring)."""

  cfg: ModelConfig
  params: Any
  tokenizer: Any
  template: str = VERIFY_TEMPLATE
  yes_words: tuple[str, ...] = ("Yes",)
  no_words: tuple[str, ...] = ("No",)
  batch_size: int = 32
  max_len: int = 512
  mesh: Mesh | None = None

  def __post_init__(self):
    for key in ("{prompt}", "{response}"):
      if key not in self.template:
        raise ValueError(f"the verification template needs a {key} slot, got {self.template!r}")
    yes, no = verdict_token_ids(self.tokenizer, self.yes_words), verdict_token_ids(self.tokenizer, self.no_words)
    if not yes:
      raise ValueError("a verifier needs at least one yes word")
    if set(yes) & set(no):
      raise ValueError(f"yes words {self.yes_words} and no words {self.no_words} share a first token "
                       f"({sorted(set(yes) & set(no))}): the verdict could not tell them apart")
    self.yes_ids, self.no_ids = yes, no
    self.params = place_params(self.params, param_logical_axes(self.cfg), self.mesh)
    self._forward = _verdict_forward(self.cfg, yes, no)
    self.num_truncated = 0

  def texts(self, prompts: Sequence[str], responses: Sequence[str]) -> list[str]:
    return [self.template.format(prompt=p, response=r) for p, r in zip(prompts, responses, strict=True)]

  def scores(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """score [N] in [0, 1] for each (prompt, response)."""
    tokens = [text_ids(self.tokenizer, t, "", add_eos=False) for t in self.texts(prompts, responses)]
    tokens, cut = _truncate_left(tokens, self.max_len, "verifier")
    self.num_truncated += cut
    return batched_scores(self._forward, self.params, tokens, batch_size=self.batch_size,
                          pad_id=batching.pad_id_of(self.tokenizer), max_len=self.max_len, mesh=self.mesh)


def select(scores: Sequence[float], *, threshold: float = -math.inf, top_fraction: float = 1.0) -> np.ndarray:
  """Which items to keep: score >= threshold, and among the ceil(top_fraction · N) highest scores (ties: the
  earlier item first). -> [N] bool."""
  scores = np.asarray(scores, np.float64)
  if not 0.0 < top_fraction <= 1.0:
    raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction}")
  keep = scores >= threshold
  if top_fraction < 1.0:
    best = np.argsort(-scores, kind="stable")[:math.ceil(top_fraction * len(scores))]
    top = np.zeros(len(scores), bool)
    top[best] = True
    keep &= top
  return keep


def judge_records(records: Sequence[Mapping[str, Any]], contexts: Sequence[str],
                  judge: Callable[[Sequence[str], Sequence[str]], np.ndarray], *, threshold: float = -math.inf,
                  top_fraction: float = 1.0, response_field: str = "completion") -> list[dict[str, Any]]:
  """Every record, scored by `judge(contexts, responses)` and marked by `select`: copies with "judge_score" (float)
  and "judge_kept" (bool). `contexts[i]` is the text before record i's response (its prompt, without the prefill
  that the response already holds)."""
  if len(records) != len(contexts):
    raise ValueError(f"{len(records)} records but {len(contexts)} contexts")
  if not records:
    return []
  scores = np.asarray(judge(list(contexts), [str(r[response_field]) for r in records]), np.float64)
  keep = select(scores, threshold=threshold, top_fraction=top_fraction)
  return [{**r, "judge_score": float(s), "judge_kept": bool(k)} for r, s, k in zip(records, scores, keep)]
