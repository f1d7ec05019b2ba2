"""Cold-start SFT of a real Qwen2.5-1.5B checkpoint on reasoning traces (real scale: a GPU/TPU mesh, not CPU).

    python -m experiments.sft --config configs/sft_qwen.py --config.model.init_from=/ckpt/Qwen2.5-1.5B \
        --config.tokenizer=/ckpt/Qwen2.5-1.5B --config.task.knobs.path=/data/gsm8k --workdir /runs/sft_qwen
    python -m experiments.sft --config configs/sft_qwen.py --dry_run              # per-device memory, 8 devices

The task file is a local GSM8K-format jsonl/parquet (question, answer "... #### N"); its reasoning becomes the
<think> block. float32 master weights (an AdamW step of lr 1e-5 is below bfloat16's resolution of a typical weight,
so bf16 weights would barely move) with bf16 compute, FSDP over all devices, full remat. Defaults follow common
SFT practice for 1.5B models (AdamW lr 1e-5, warmup 3%, cosine to 10%, clip 1.0, wd 0.01).
"""

import ml_collections

from configs import sft_arithmetic


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  if arg not in (None, "", "default"):
    raise ValueError(f"unknown variant {arg!r} of configs/sft_qwen.py; valid: ('default',)")
  c = sft_arithmetic.get_config("tiny")
  c.tokenizer = "/path/to/Qwen2.5-1.5B"
  c.model = ml_collections.ConfigDict(dict(preset="qwen2.5-1.5b", init_from="/path/to/Qwen2.5-1.5B",
                                           param_dtype="float32", dtype="bfloat16", remat="full",
                                           overrides=ml_collections.ConfigDict()))
  c.task = ml_collections.ConfigDict(dict(
      name="gsm8k", knobs=ml_collections.ConfigDict(dict(path="/path/to/gsm8k")), n_train=7000, n_test=256,
      template="r1_zero", template_opts=ml_collections.ConfigDict(), max_prompt_len=512,
      completion_field="completion"))
  c.optimizer.update(learning_rate=1e-5, warmup_steps=30, total_steps=0, min_lr_ratio=0.1, weight_decay=0.01,
                     b2=0.95)
  c.train.update(steps=1000, batch_size=64, micro_batches=4, max_len=1024, pack=True, log_every=10, eval_every=200,
                 checkpoint_every=200)
  c.eval.update(num_prompts=256, max_new_tokens=1024, temperature=0.0)
  c.mesh.update(data=1, fsdp=-1, tensor=1)
  return c
