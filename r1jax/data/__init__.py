"""Data for r1jax: reasoning tasks, prompt templates, dataset loading, and batching into fixed-shape arrays.

    from r1jax.data import tasks, templates, batching
    ds = tasks.load("countdown", split="train", n=1000, seed=0)
    batch, prompts = batching.encode_prompt_rows(tokenizer, ds.to_list()[:8], "r1_zero", max_len=256)
"""

from r1jax.data import batching, loading, preferences, tasks, templates

__all__ = ["batching", "loading", "preferences", "tasks", "templates"]
