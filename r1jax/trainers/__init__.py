"""The trainers as library functions: each takes typed settings and a workdir, and returns a summary.

    from r1jax.trainers import grpo, settings, sft
    sft_out = sft.train(settings.SFTSettings(...), "runs/sft")
    grpo_out = grpo.train(settings.GRPOSettings(...), "runs/grpo", init_params=sft_out["params"])

`experiments/*.py` are thin command lines over these; `configs/*.py` hold named settings as ConfigDicts, which
`settings.parse` turns into the dataclasses (strictly: an unknown key is an error).
"""
