"""GRPO of a real Qwen2.5 checkpoint on GSM8K with rule rewards (real scale: 8 GPUs, FSDP over all of them).

    python -m experiments.grpo --config configs/grpo_gsm8k_qwen.py \
        --config.model.init_from=/ckpt/Qwen2.5-1.5B-Instruct --config.tokenizer=/ckpt/Qwen2.5-1.5B-Instruct \
        --config.task.knobs.path=/data/gsm8k --workdir /runs/grpo_gsm8k
    python -m experiments.grpo --config configs/grpo_gsm8k_qwen.py:r1_distill \
        --config.model.init_from=/ckpt/DeepSeek-R1-Distill-Qwen-1.5B \
        --config.tokenizer=/ckpt/DeepSeek-R1-Distill-Qwen-1.5B --config.task.knobs.path=/data/gsm8k --workdir /runs/r
    python -m experiments.grpo --config configs/grpo_gsm8k_qwen.py --dry_run        # per-GPU memory, 8 devices

Defaults follow TRL GRPOTrainer / open-r1 for 1.5B models: G=8, ε=0.2, β=0.04 with k3, lr 1e-6 constant after a
short warmup, clip 1.0, temperature 1.0, 1024 new tokens; rewards: sympy-checked accuracy 1.0 + format 0.5.
`r1_distill` starts from DeepSeek-R1-Distill-Qwen-1.5B (the shapes of Qwen2.5-Math-1.5B with an untied LM head):
its own chat template (which opens the <think> block), no system prompt, the question followed by "Please reason
step by step, and put your final answer within \\boxed{}.", temperature 0.6 and 2048 new tokens, as DeepSeek
recommends for these models; the accuracy reward alone (its answers carry no <answer> tags). The schedule spans
the optimizer updates the run makes (total_steps 0). The policy keeps float32 master weights and computes in bf16:
an AdamW step of lr 1e-6 is far below bfloat16's resolution of a weight (2^-8 of it), so bf16 weights would not
move at all.
"""

import ml_collections

from configs import grpo_arithmetic

VARIANTS = ("default", "r1_distill")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {arg!r} of configs/grpo_gsm8k_qwen.py; valid: {VARIANTS}")
  c = grpo_arithmetic.get_config("grpo")  # the DeepSeekMath / TRL recipe (beta 0.04, k3), not the tiny Dr. GRPO one
  c.tokenizer = "/path/to/Qwen2.5-1.5B-Instruct"
  c.model = ml_collections.ConfigDict(dict(preset="qwen2.5-1.5b", init_from="/path/to/Qwen2.5-1.5B-Instruct",
                                           param_dtype="float32", dtype="bfloat16", remat="full",
                                           overrides=ml_collections.ConfigDict()))
  c.task = ml_collections.ConfigDict(dict(
      name="gsm8k", knobs=ml_collections.ConfigDict(dict(path="/path/to/gsm8k")), n_train=7000, n_test=256,
      template="chat", template_opts=ml_collections.ConfigDict(dict(
          system="Please reason step by step inside <think> </think>, then give the final answer inside "
                 "<answer> </answer>.")), max_prompt_len=512))
  c.rollout.update(prompts_per_step=64, num_generations=8, max_new_tokens=1024, temperature=1.0)
  c.grpo.update(micro_batches=8)
  c.optimizer.update(learning_rate=1e-6, schedule="constant", warmup_steps=10, total_steps=0, b2=0.99)
  c.train.update(steps=1000, eval_every=100, checkpoint_every=50, samples_every=10)
  c.eval.update(num_prompts=256, num_samples=4, max_new_tokens=1024, temperature=0.6, ks=(1, 4))
  c.mesh.update(data=1, fsdp=-1, tensor=1)
  if variant == "r1_distill":
    c.tokenizer = "/path/to/DeepSeek-R1-Distill-Qwen-1.5B"
    c.model.update(preset="r1-distill-qwen-1.5b", init_from="/path/to/DeepSeek-R1-Distill-Qwen-1.5B")
    c.task.template_opts = ml_collections.ConfigDict(dict(
        suffix="Please reason step by step, and put your final answer within \\boxed{}."))
    # Its answers end "</think> ... \\boxed{x}", with no <answer> tags: scored on accuracy alone.
    c.rewards = dict(math_accuracy=1.0)
    c.eval.rewards = dict(math_accuracy=1.0)
    c.rollout.update(prompts_per_step=32, max_new_tokens=2048, temperature=0.6)
    c.grpo.update(micro_batches=4, logprob_chunk=64)  # 8 groups per micro-batch: one per device of 8
    c.eval.update(max_new_tokens=2048)
  return c
