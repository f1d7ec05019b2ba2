"""The R1 paper in miniature: every stage of experiments/r1_tiny.py (what `make demo` runs) in one config.

    python -m experiments.r1_tiny --workdir runs/demo                 # the table in README.md (test split)
    python -m experiments.r1_tiny --workdir runs/dev --split dev      # how this recipe was chosen (dev split)
    python -m experiments.r1_tiny --workdir /tmp/r1 --quick           # the test-sized run

Task: chained arithmetic (r1jax.data.tasks.arithmetic), "What is 7 + 2 - 8 + 6?": one-digit numbers, + and -,
every intermediate value in 0..9 (a 10 x 10 table of facts, and every step of a trace the same shape). The
difficulty knob is the chain's length (`steps`, operations per problem):

    pretrain   1-5 operations   the base model's text (drawn with replacement: each length ~1/5 of the rows)
    narrow     2-4 operations   the cold-start traces, and the in-band evaluation
    rl         2-5 operations   GRPO's (and R1-Zero's, and the student RL's) prompts
    hard       5 operations     the harder evaluation band: RL trains on it, the cold start never saw it

Problems are split by a hash of the expression into train, dev (15%: this recipe was chosen on it) and test (15%:
the reported table), disjoint; every evaluation band has more than 1000 distinct dev and test problems.

Where each choice comes from:
  base         Plain language-model loss on "User: {question}\\nAssistant: {answer}" text (the SFT trainer with
               train_on_prompt, documents packed): 80% direct answers ("7 + 2 - 8 = 1."), 20% worked solutions,
               30% of which make a wrong step and correct it ("Wait, ..."); no <think>. DeepSeek-R1 (2025) §2.2:
               R1-Zero starts from a base model, and RL can only amplify what the base already does sometimes.
               Small batches (16 documents) and many steps at lr 1e-3: on the dev split lr 3e-3 left the base
               unable to copy the question's numbers after 1200 steps (dev pass@1 0.03), lr 1e-3 reached 0.30.
  sft          Cold start (DeepSeek-R1 §2.3.1): SFT of the base on 300 <think>...</think><answer>...</answer>
               traces of the narrow band only. A 2-3 operation band taught the model to stop after 3 steps
               whatever the question (dev pass@1 on 4-5 operations 0.10); 2-4 operations leave room to generalise.
               300 steps at lr 1e-3: 150 steps at 2e-3 left the cold start's in-band dev pass@1 anywhere from 0.38
               to 0.66 across base seeds (and 0.43 to 0.89 across code versions), 300 at 1e-3 gave 0.80 / 0.87 /
               0.96 on seeds 0 / 1 / 2. Traces of 2-5 operations instead did not help 5-operation problems (dev
               pass@1 0.20 / 0.11 on seeds 0 / 1, against 0.19 / 0.11) and left less for GRPO to add.
  grpo         GRPO (DeepSeekMath, Shao et al. 2024) with R1's two rule rewards, accuracy 1 + format 0.5
               (DeepSeek-R1 §2.2.2), G = 8, 16 prompts per step, on the wider band. From later small-scale work:
                 Dr. GRPO (Liu et al. 2025): constant-length loss aggregation (loss_type dr_grpo) and no division
                   by the group's reward std (advantage_estimator dr_grpo);
                 beta = 0, no KL term and no reference model (Dr. GRPO; DAPO, Yu et al. 2025);
                 2 updates per rollout batch (mini_batches = 2; DeepSeekMath's off-policy updates, PPO) with PPO
                   clipping against the sampling policy, whose log-probs the sampler records (old_logp sampler:
                   the recomputed ones up to rounding, without a forward pass per step; the recipe was chosen
                   with them recomputed); DAPO's clip-higher (epsilon_high 0.28);
                 zero-variance groups dropped and replaced by a second draw (DAPO's dynamic sampling), a batch
                   still short topped up with zero-advantage groups so that every update has one shape;
                 linear warmup + cosine decay of the learning rate, lr 1e-4 for 200 steps. On the dev split
                   (300 problems per band x 4 samples, the cold start above, base seeds 0 / 1 / 2), pass@1 changed
                   over the cold start's, in points:
                                              5 operations                   in-band (2-4)
                     1e-4, 200 steps (chosen)  +16.8 / +2.8 / +22.2  (13.9)    +7.6 / +4.8 / -0.5
                     2e-4, 100 steps           +15.8 / +8.8 / +20.0  (14.9)   -31.1 / -3.5 / -2.8
                     1e-4, 100 steps            +7.9 / +5.4 / +20.3  (11.2)    +3.9 / +2.4 / -0.4
                   Chosen as the only recipe tried that raises the harder band without losing the in-band one on
                   any seed, and the best on seed 0 (the seed `make demo` runs); its mean gain over seeds is a
                   point below 2e-4's, within the runs' noise (~2.5 points each). At 2e-4 the answers of seed 0
                   came loose from the traces: the cold-start model never writes five steps, so on 5-operation
                   prompts reward goes to answers that do not follow the trace, and that habit spreads to the
                   in-band problems (on seeds 1 and 2 to traces that merge two operations in one step). Also
                   tried, worse: 150 steps at 2e-4 (seed 0: +11.6, in-band -44); 5e-4 (the traces collapsed within
                   12 steps); on seed 0 at 2e-4 a KL term (beta 0.01: +9.5, in-band -11.7), no dynamic sampling
                   (+9.4, -45), a 500-step cold start (+8.4, -69), RL prompts of 3-5 operations instead of 2-5
                   (+10.4, -47; seed 1: +11.1, -10.3), and cold-start traces that rewrite the rest of the
                   expression after each operation ("9 - 8 + 6 = 1 + 6 = 7": the model miscopies the rest,
                   cold-start in-band 0.55, then +11.5 / -28).
  sft_control  The cold-start model trained on with SFT (the same traces, constant lr) for the same training time
               GRPO used (a training-time budget, train.max_train_s, that ends the run at GRPO's measured loop time):
               does RL add more than more SFT on what the cold start already had?
  r1_zero      GRPO with the same rewards, loss and sampling straight from the base (DeepSeek-R1 §2.2), at lr 2e-4
               for 40 steps: the prompt ends at "Assistant: ", nothing prefilled, so the model must find the <think>
               format itself.
  student_*    DeepSeek-R1 §4.1 / Table 6, distillation vs RL on a smaller model. Both start from a smaller base
               pretrained like the big one. student_rl: the R1-Zero recipe on the student; student_distill:
               rejection-sample the GRPO model (keep correct, well-formatted traces; R1 §2.3.3) and SFT the student
               on them (constant lr) for as long as student_rl trained (a training-time budget, as the control's).
  eval         Every stage on the same held-out problems, 500 per band x 4 samples at temperature 1 (the policy's own
               distribution; pass@1 = mean over samples, with its standard error over prompts), maj@4, pass@4,
               format rate, mean length, and greedy accuracy (one sample at temperature 0).
"""

from __future__ import annotations

import ml_collections

from r1jax.trainers import settings

VARIANTS = ("demo", "quick")
# Each stage's section and the experiment (trainer) it configures; the other sections are the pipeline's own.
STAGE_TRAINERS = {"base": "sft", "student_base": "sft", "cold_start": "sft", "grpo": "grpo", "sft_control": "sft",
                  "r1_zero": "grpo", "student_rl": "grpo", "student_distill": "sft"}

MODEL = dict(hidden_size=128, intermediate_size=352, num_layers=4, num_heads=4, num_kv_heads=2)
STUDENT = dict(hidden_size=64, intermediate_size=176, num_layers=4, num_heads=4, num_kv_heads=2)
TEMPLATE_OPTS = dict(prefill_think=False)  # "User: {question}\nAssistant: " for every stage
# One-digit numbers, + and -, every value in 0..9: a 10 x 10 table of facts and single-character values, so that
# every step of a trace has the same shape. test and dev take 15% of the problems each (>= 1000 per band).
KNOBS = dict(digits=1, ops="+-", max_value=9, test_fraction=0.15, dev_fraction=0.15, worked_fraction=0.2,
             slip_fraction=0.3)
MAX_NEW_TOKENS = 72  # the longest trace (5 steps) is 60 tokens with EOS; a 5-step worked solution is 72


def _task(steps, n_train: int, completion_field: str = "completion", **knobs) -> dict:
  return dict(name="arithmetic", n_train=n_train, n_test=500, template="r1_zero_short",
              template_opts=dict(TEMPLATE_OPTS), max_prompt_len=50, pad_prompts=True,
              completion_field=completion_field,
              knobs=dict(KNOBS, steps=tuple(steps), **knobs))


def _eval(num_prompts: int, num_samples: int = 4, max_new_tokens: int = MAX_NEW_TOKENS) -> dict:
  return dict(num_prompts=num_prompts, num_samples=num_samples, max_new_tokens=max_new_tokens, temperature=1.0,
              ks=(1, num_samples), rewards=dict(math_accuracy=1.0, think_answer=0.5), heldout_batches=1)


def _sft(model: dict, task: dict, steps: int, lr: float, batch_size: int, max_len: int) -> ml_collections.ConfigDict:
  c = settings.to_config(settings.SFTSettings())
  c.model.overrides = dict(model)
  c.task.update(task)
  c.optimizer.update(learning_rate=lr, schedule="cosine", warmup_steps=max(1, steps // 20), min_lr_ratio=0.1,
                     weight_decay=0.01, b2=0.98)
  c.train.update(steps=steps, batch_size=batch_size, max_len=max_len, log_every=10, eval_every=0,
                 checkpoint_every=max(10, steps // 2), export_hf=False)
  c.eval.update(_eval(64))
  return c


def _grpo(model: dict, task: dict, steps: int, lr: float, eval_every: int, eval_prompts: int
          ) -> ml_collections.ConfigDict:
  c = settings.to_config(settings.GRPOSettings())
  c.model.overrides = dict(model)
  c.task.update(task)
  c.rollout.update(prompts_per_step=16, num_generations=8, max_new_tokens=MAX_NEW_TOKENS, temperature=1.0)
  c.grpo.update(loss_type="dr_grpo", advantage_estimator="dr_grpo", beta=0.0, epsilon_low=0.2, epsilon_high=0.28,
                num_iterations=1, mini_batches=2, dynamic_sampling=True, max_draws=2, fill_short_batch=True,
                micro_batches=2,  # on CPU, halves XLA's temporaries: the same gradients, ~10% faster steps
                old_logp="sampler")  # the sampler's log-probs as the old policy's: no extra forward pass per step
  c.rewards = dict(math_accuracy=1.0, think_answer=0.5)
  c.optimizer.update(learning_rate=lr, schedule="cosine", warmup_steps=max(1, steps // 10), min_lr_ratio=0.1,
                     b2=0.99)
  c.train.update(steps=steps, log_every=1, eval_every=eval_every, checkpoint_every=max(10, steps // 2),
                 samples_every=10, export_hf=False, max_flat_steps=0)
  c.eval.update(_eval(eval_prompts))
  return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "demo"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/r1_tiny.py; valid: {VARIANTS}")
  quick = variant == "quick"
  model = dict(MODEL) if not quick else dict(hidden_size=32, intermediate_size=64, num_layers=1, num_heads=2,
                                             num_kv_heads=1)
  student = dict(STUDENT) if not quick else dict(model, hidden_size=16)
  c = ml_collections.ConfigDict()
  c.bands = dict(pretrain=(1, 5), narrow=(2, 4), rl=(2, 5), hard=(5, 5))
  c.eval = ml_collections.ConfigDict(dict(bands=("narrow", "hard"), num_prompts=500, num_samples=4, greedy=True,
                                          batch_prompts=500, max_new_tokens=MAX_NEW_TOKENS))
  for name, dims in (("base", model), ("student_base", student)):
    c[name] = _sft(dims, _task(c.bands.pretrain, 40000, "base_text", distinct=False),
                   steps=1200 if name == "base" else 800, lr=1e-3, batch_size=8, max_len=160)
    # Pretraining: the loss on all of the text, and documents packed (16 per batch of 8 rows) instead of padded;
    # small batches, many steps (more progress per CPU second than 4x the batch for a quarter of the steps).
    c[name].train.update(train_on_prompt=True, pack=True, pack_examples=16, log_every=50)
  # What the stages' settings do not hold: the cold start's number of narrow-band traces; how often the control is
  # evaluated (as often as GRPO); how the GRPO model is rejection-sampled for the student's distillation data (the
  # correct, well-formatted completions, at most max_per_prompt per prompt, of RL-band train prompts).
  # `rounds` > 1 repeats SFT -> GRPO: round k fine-tunes the base on round k-1's GRPO samples (of RL-band train
  # prompts, kept when correct and well formatted, as `round_sampling` says) instead of the cold-start traces, then
  # runs GRPO from there (stages sft_round<k>, grpo_round<k>, reported after the others).
  sampling = dict(num_prompts=1000, samples_per_prompt=2, max_per_prompt=1, temperature=1.0,
                  max_new_tokens=MAX_NEW_TOKENS, accept=dict(math_accuracy=1.0, think_answer=1.0))
  c.pipeline = ml_collections.ConfigDict(dict(
      cold_start_traces=300, control_evals=2, rounds=1, distill_sampling=dict(sampling),
      round_sampling=dict(sampling, num_prompts=300)))
  c.cold_start = _sft(model, _task(c.bands.narrow, 300), steps=300, lr=1e-3, batch_size=32, max_len=96)
  c.grpo = _grpo(model, _task(c.bands.rl, 20000), steps=200, lr=1e-4, eval_every=100, eval_prompts=128)
  # The control continues the cold start on the same traces; the pipeline gives it GRPO's measured training time as
  # its budget (train.max_train_s) and room in steps to reach it, so the schedule is constant.
  c.sft_control = _sft(model, _task(c.bands.rl, 300), steps=1, lr=1e-3, batch_size=32, max_len=96)
  c.sft_control.optimizer.update(schedule="constant", warmup_steps=0)
  c.sft_control.eval.update(_eval(128))
  c.r1_zero = _grpo(model, _task(c.bands.rl, 20000), steps=40, lr=2e-4, eval_every=20, eval_prompts=128)
  c.student_rl = _grpo(student, _task(c.bands.rl, 20000), steps=20, lr=2e-4, eval_every=0, eval_prompts=64)
  # The pipeline gives the distillation student_rl's measured training time as its budget, and room in steps to
  # reach it, planned from the student base's seconds per step: the batches have the student base's shape (16
  # documents packed into 8 rows of 160 tokens). A constant schedule, since the step the budget ends at is not known
  # in advance (a cosine planned for an expected step count overshot student_rl's time by 20-60%: the machine's
  # speed drifts from stage to stage).
  c.student_distill = _sft(student, _task(c.bands.rl, 300), steps=1, lr=1e-3, batch_size=8, max_len=160)
  c.student_distill.train.update(pack=True, pack_examples=16)
  c.student_distill.optimizer.update(schedule="constant")
  if quick:  # every stage runs, in seconds; the numbers mean nothing
    c.eval.update(num_prompts=8, num_samples=2, batch_prompts=8, max_new_tokens=24)
    for name in ("base", "student_base"):
      c[name].task.n_train = 64
      c[name].train.update(steps=4, batch_size=8, pack_examples=12)
    c.pipeline.update(cold_start_traces=16, control_evals=2)
    # A random model's samples are never correct: keep them all (the quick run checks the wiring, not the numbers).
    c.pipeline.distill_sampling.update(num_prompts=8, max_new_tokens=24)
    c.pipeline.distill_sampling.accept = {}
    c.pipeline.round_sampling.update(num_prompts=8, max_new_tokens=24)
    c.pipeline.round_sampling.accept = {}
    c.pipeline.rounds = 2  # the quick run also checks a second round's wiring
    for name in ("cold_start", "sft_control", "student_distill"):
      c[name].train.update(steps=2, batch_size=8)
      c[name].eval.update(_eval(4, num_samples=2, max_new_tokens=24))
    for name in ("grpo", "r1_zero", "student_rl"):
      c[name].task.n_train = 64
      c[name].rollout.update(prompts_per_step=2, num_generations=2, max_new_tokens=24)
      c[name].grpo.micro_batches = 1  # one prompt group per mini-batch
      c[name].train.update(steps=2, eval_every=0 if name == "student_rl" else 1)
      c[name].eval.update(_eval(4, num_samples=2, max_new_tokens=24))
  return c
