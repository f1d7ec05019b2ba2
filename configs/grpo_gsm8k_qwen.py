"""GRPO of a real Qwen2.5 checkpoint on GSM8K with rule rewards (real scale: a GPU/TPU mesh, not CPU).

    python -m experiments.grpo --config configs/grpo_gsm8k_qwen.py \
        --config.model.init_from=/ckpt/Qwen2.5-1.5B-Instruct --config.tokenizer=/ckpt/Qwen2.5-1.5B-Instruct \
        --config.task.knobs.path=/data/gsm8k --workdir /runs/grpo_gsm8k

Defaults follow TRL GRPOTrainer / open-r1 for 1.5B models: G=8, ε=0.2, β=0.04 with k3, lr 1e-6 constant after a
short warmup, clip 1.0, temperature 1.0, 1024 new tokens; rewards: sympy-checked accuracy 1.0 + format 0.5.
"""

import ml_collections

from configs import grpo_arithmetic


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  if arg not in (None, "", "default"):
    raise ValueError(f"unknown variant {arg!r} of configs/grpo_gsm8k_qwen.py; valid: ('default',)")
  c = grpo_arithmetic.get_config("tiny")
  c.tokenizer = "/path/to/Qwen2.5-1.5B-Instruct"
  c.model = ml_collections.ConfigDict(dict(preset="qwen2.5-1.5b", init_from="/path/to/Qwen2.5-1.5B-Instruct",
                                           param_dtype="bfloat16", dtype="bfloat16", remat="full",
                                           overrides=ml_collections.ConfigDict()))
  c.task = ml_collections.ConfigDict(dict(
      name="gsm8k", knobs=ml_collections.ConfigDict(dict(path="/path/to/gsm8k")), n_train=7000, n_test=256,
      template="chat", template_opts=ml_collections.ConfigDict(dict(
          system="Please reason step by step inside <think> </think>, then give the final answer inside "
                 "<answer> </answer>.")), max_prompt_len=512))
  c.rollout.update(prompts_per_step=64, num_generations=8, max_new_tokens=1024, temperature=1.0)
  c.grpo.update(micro_batches=8)
  c.optimizer.update(learning_rate=1e-6, schedule="constant", warmup_steps=10, total_steps=1000, b2=0.99)
  c.train.update(steps=1000, eval_every=100, checkpoint_every=50, samples_every=10)
  c.eval.update(num_prompts=256, num_samples=4, max_new_tokens=1024, temperature=0.6, ks=(1, 4))
  c.mesh.update(data=1, fsdp=-1, tensor=1)
  return c
