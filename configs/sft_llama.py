"""SFT of Llama-3.1-8B on reasoning traces, FSDP over 8 to 32 GPUs (or TPU chips): fp32 master weights, bf16 compute,
full remat.

    python -m experiments.sft --config configs/sft_llama.py --config.model.init_from=/ckpt/Llama-3.1-8B-Instruct \
        --config.tokenizer=/ckpt/Llama-3.1-8B-Instruct --config.task.knobs.path=/data/gsm8k --workdir /runs/sft_8b
    python -m experiments.sft --config configs/sft_llama.py --dry_run --dry_run_devices=32   # per-device memory

Every weight, gradient and Adam moment is split over all devices (`mesh.fsdp=-1`); 64 packed rows of 2048 tokens
per update in 2 micro-batches, so each micro-batch gives every device of a 32-device mesh a whole row. The task
file is a local GSM8K-format jsonl/parquet (question, answer "... #### N"); its reasoning becomes the <think> block.
Defaults follow common practice for 8B SFT (AdamW lr 1e-5, warmup 3%, cosine to 10%, clip 1.0, wd 0.01, b2 0.95).
"""

import ml_collections

from configs import sft_qwen


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  if arg not in (None, "", "default"):
    raise ValueError(f"unknown variant {arg!r} of configs/sft_llama.py; valid: ('default',)")
  c = sft_qwen.get_config()
  c.tokenizer = "/path/to/Llama-3.1-8B-Instruct"
  c.model.update(preset="llama-3.1-8b", init_from="/path/to/Llama-3.1-8B-Instruct")
  c.train.update(steps=1000, batch_size=64, micro_batches=2, max_len=2048, pack=True, logit_chunk=256)
  c.eval.update(num_prompts=256, max_new_tokens=1024, temperature=0.0)
  c.mesh.update(data=1, fsdp=-1, tensor=1)
  return c
