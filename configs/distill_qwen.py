"""R1-style distillation at real scale: a DeepSeek-R1-Distill-Qwen-7B teacher into a Qwen2.5-1.5B student.

    python -m experiments.distill --config configs/distill_qwen.py \
        --config.teacher.init_from=/ckpt/DeepSeek-R1-Distill-Qwen-7B --config.model.init_from=/ckpt/Qwen2.5-1.5B \
        --config.tokenizer=/ckpt/DeepSeek-R1-Distill-Qwen-7B --config.task.knobs.path=/data/gsm8k --workdir /runs/d
    python -m experiments.distill --config configs/distill_qwen.py --dry_run      # per-device memory, 8 devices

Rejection-sampled teacher traces (accuracy and format both required, up to 2 per prompt), then SFT + forward-KL KD
(α = 0.5) of the student. Both models share the Qwen2.5 tokenizer (their vocabularies are padded to different
sizes, 152064 and 151936 rows: KD compares the first 151936 logits). The frozen teacher keeps bf16 weights; the
student float32 master weights (bf16 weights would round away its lr-1e-5 steps), both compute in bf16. Needs a
GPU/TPU mesh (8 GPUs, FSDP over all).
"""

import ml_collections

from configs import distill_arithmetic


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  if arg not in (None, "", "default"):
    raise ValueError(f"unknown variant {arg!r} of configs/distill_qwen.py; valid: ('default',)")
  c = distill_arithmetic.get_config("tiny")
  c.tokenizer = "/path/to/DeepSeek-R1-Distill-Qwen-7B"
  c.teacher = ml_collections.ConfigDict(dict(preset="r1-distill-qwen-7b",
                                             init_from="/path/to/DeepSeek-R1-Distill-Qwen-7B",
                                             param_dtype="bfloat16", dtype="bfloat16", remat="none",
                                             overrides=ml_collections.ConfigDict()))
  c.model = ml_collections.ConfigDict(dict(preset="qwen2.5-1.5b", init_from="/path/to/Qwen2.5-1.5B",
                                           param_dtype="float32", dtype="bfloat16", remat="full",
                                           overrides=ml_collections.ConfigDict()))
  c.task = ml_collections.ConfigDict(dict(
      name="gsm8k", knobs=ml_collections.ConfigDict(dict(path="/path/to/gsm8k")), n_train=7000, n_test=256,
      template="r1_zero", template_opts=ml_collections.ConfigDict(), max_prompt_len=512,
      completion_field="completion"))
  c.distill.update(samples_per_prompt=4, max_per_prompt=2, prompts_per_draw=64, max_new_tokens=2048,
                   sample_temperature=0.6)
  c.optimizer.update(learning_rate=1e-5, warmup_steps=30, total_steps=0, weight_decay=0.01)
  c.train.update(steps=2000, batch_size=32, micro_batches=4, max_len=2560, eval_every=250, checkpoint_every=250)
  c.eval.update(num_prompts=256, num_samples=4, max_new_tokens=2048, temperature=0.6, ks=(1, 4))
  c.mesh.update(data=1, fsdp=-1, tensor=1)
  return c
