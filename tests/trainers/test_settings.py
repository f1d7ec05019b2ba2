"""Typed settings: strict parsing from ConfigDicts, errors that name the key, command-line overrides."""

import json

import ml_collections
import pytest

from experiments import common as cli
from r1jax.checks import SettingsError
from r1jax.trainers import settings


def test_round_trip_of_the_defaults_and_strict_keys():
  for cls in (settings.SFTSettings, settings.GRPOSettings, settings.DistillSettings, settings.EvaluateSettings):
    assert settings.parse(cls, settings.to_config(cls())) == cls()
  c = settings.to_config(settings.GRPOSettings())
  c.grpo.dual_clip = 3.0  # a knob no trainer reads must not pass silently
  with pytest.raises(SettingsError, match=r"unknown key config\.grpo\.dual_clip; valid keys of config\.grpo: "):
    settings.parse(settings.GRPOSettings, c)


@pytest.mark.parametrize("key, value, message", [
    ("train.steps", -5, r"config\.train\.steps must be >= 1, got -5"),
    ("train.log_every", 0, r"config\.train\.log_every must be >= 1"),
    ("task.max_prompt_len", 0, r"config\.task\.max_prompt_len must be >= 1"),
    ("task.max_prompt_len", -1, r"config\.task\.max_prompt_len must be >= 1"),
    ("rollout.num_generations", 2.5, r"config\.rollout\.num_generations must be an integer"),
    ("optimizer.schedule", "exp", r"config\.optimizer\.schedule must be one of"),
    ("eval.ks", (1, 8), r"config\.eval\.ks must lie in \[1, num_samples=4\]"),
    ("eval.correct_reward", "countdown", r"config\.eval\.correct_reward 'countdown' must be one of eval\.rewards"),
    ("task.prompt_policy", "cut", r"config\.task\.prompt_policy must be one of"),
    ("grpo.mini_batches", 0, r"config\.grpo\.mini_batches must be >= 1"),
    ("grpo.mini_batches", 3, r"config\.grpo\.mini_batches must divide the 128 rollouts of a step"),
    ("grpo.micro_batches", 3, r"config\.grpo\.micro_batches must divide the 128 rollouts of a mini-batch"),
    ("optimizer.learning_rate", float("inf"), r"config\.optimizer\.learning_rate must be a finite number"),
    ("rollout.temperature", float("nan"), r"config\.rollout\.temperature must be a finite number"),
])
def test_bad_values_name_their_key(key, value, message):
  c = settings.to_dict(settings.GRPOSettings())
  section, leaf = key.split(".")
  c[section][leaf] = value
  with pytest.raises(SettingsError, match=message):
    settings.parse(settings.GRPOSettings, c)


@pytest.mark.parametrize("cls", [settings.SFTSettings, settings.GRPOSettings, settings.DistillSettings,
                                 settings.EvaluateSettings])
def test_a_negative_seed_names_its_key(cls):
  with pytest.raises(SettingsError, match=r"^config\.seed must be >= 0, got -1"):
    settings.parse(cls, {"seed": -1})


def test_command_line_overrides_are_typed_and_open_sections_take_new_keys():
  overrides, rest = cli.split_overrides(["--config.train.steps=7", "--workdir", "w", "--config.task.name", "file",
                                        "--config.task.knobs.path=/data/qa.jsonl", "--config.train.export_hf=false",
                                        "--config.rewards.overlong.max_length=64", "--config.rewards.overlong.weight=1",
                                        "--config.eval.ks=(1,2)"])
  assert rest == ["--workdir", "w"]
  c = cli.apply_overrides(settings.to_config(settings.GRPOSettings()), overrides,
                          settings.open_sections(settings.GRPOSettings))
  s = settings.parse(settings.GRPOSettings, c)
  assert s.train.steps == 7 and s.task.name == "file" and s.task.knobs == {"path": "/data/qa.jsonl"}
  assert s.train.export_hf is False and s.rewards["overlong"] == {"max_length": 64, "weight": 1} and s.eval.ks == (1, 2)
  for bad, message in ((("train.stepz", "5"), r"unknown key config\.train\.stepz; valid keys of config\.train"),
                       (("grpo.beta", "x"), r"config\.grpo\.beta must be a number, got 'x'"),
                       (("train.export_hf", "maybe"), r"config\.train\.export_hf must be true or false"),
                       (("nosection.key", "1"), r"unknown key config\.nosection")):
    with pytest.raises(SettingsError, match=message):
      cli.apply_overrides(settings.to_config(settings.GRPOSettings()), [bad],
                          settings.open_sections(settings.GRPOSettings))


def test_describe_lists_every_knob_with_its_meaning():
  rows = {key: (default, doc) for key, default, doc in settings.describe(settings.GRPOSettings)}
  assert rows["config.grpo.epsilon_high"][0] == 0.2 and "clip" in rows["config.grpo.epsilon_high"][1].lower()
  assert all(doc for key, (_, doc) in rows.items() if not key.startswith(("config.model", "config.mesh."))), [
      k for k, (_, d) in rows.items() if not d]
  assert isinstance(settings.to_config(settings.GRPOSettings()), ml_collections.ConfigDict)


def test_mixture_sources_parse_strictly_and_errors_name_their_key():
  default = settings.SFTSettings()
  assert default.sources() == {"task": settings.SFTSourceSettings(**settings.to_dict(default.task))}
  c = settings.to_config(default)
  c.mixture = dict(traces=dict(weight=3.0), chat=dict(name="file", template="chat", knobs=dict(path="c.jsonl")))
  s = settings.parse(settings.SFTSettings, c)
  assert list(s.sources()) == ["chat", "traces"]  # sorted: the order of the keys in a config does not matter
  assert s.mixture["chat"].weight == 1.0 and s.mixture["chat"].knobs == {"path": "c.jsonl"}
  assert settings.parse(settings.SFTSettings, settings.to_config(s)) == s
  assert json.loads(json.dumps(settings.to_dict(s)))["mixture"]["traces"]["weight"] == 3.0  # config.json
  assert settings.updated(s, {"mixture.chat.weight": 0.5}).mixture["chat"].weight == 0.5
  for change, message in (({"weight": 0.0}, r"config\.mixture\.chat\.weight must be a number > 0, got 0\.0"),
                          ({"templat": "chat"}, r"unknown key config\.mixture\.chat\.templat; valid keys of "
                                                r"config\.mixture\.chat: name, knobs"),
                          ({"n_train": 0}, r"config\.mixture\.chat\.n_train must be >= 1")):
    bad = settings.to_dict(s)
    bad["mixture"]["chat"].update(change)
    with pytest.raises(SettingsError, match=message):
      settings.parse(settings.SFTSettings, bad)
  with pytest.raises(SettingsError, match=r"config\.mixture\.my chat is not a valid source name"):
    settings.parse(settings.SFTSettings, {"mixture": {"my chat": {}}})
  # A source can be added on the command line: config.mixture is open in its names, strict in each source's keys.
  overrides, _ = cli.split_overrides(["--config.mixture.chat.name=file", "--config.mixture.chat.weight=0.25",
                                      "--config.mixture.chat.knobs.path=/data/chat.jsonl"])
  c = cli.apply_overrides(settings.to_config(s), overrides, settings.open_sections(settings.SFTSettings))
  chat = settings.parse(settings.SFTSettings, c).mixture["chat"]
  assert (chat.name, chat.weight, chat.knobs, chat.template) == ("file", 0.25, {"path": "/data/chat.jsonl"}, "chat")


def test_reward_model_and_judge_settings():
  assert settings.parse(settings.RewardModelSettings, settings.to_config(settings.RewardModelSettings())) == (
      settings.RewardModelSettings())
  c = settings.to_dict(settings.DistillSettings())
  c["distill"]["judge"]["kind"] = "verifier"  # on, but naming no model
  with pytest.raises(SettingsError, match=r"config\.distill\.judge\.path must name the verifier checkpoint"):
    settings.parse(settings.DistillSettings, c)
  c["distill"]["judge"].update(path="/ckpt/judge", top_fraction=1.5)
  with pytest.raises(SettingsError, match=r"config\.distill\.judge\.top_fraction must be in \(0, 1\]"):
    settings.parse(settings.DistillSettings, c)
  c = settings.to_dict(settings.RewardModelSettings())
  c["data"]["length_policy"] = "cut"
  with pytest.raises(SettingsError, match=r"config\.data\.length_policy must be one of"):
    settings.parse(settings.RewardModelSettings, c)


def _with(cls, dotted: str, value):
  """The defaults of `cls` as a dict, with one dotted key set."""
  c = settings.to_dict(cls())
  node, parts = c, dotted.split(".")
  for part in parts[:-1]:
    node = node.setdefault(part, {})
  node[parts[-1]] = value
  return c


@pytest.mark.parametrize("cls, key, value, message", [
    (settings.GRPOSettings, "rewards", {"math_acuracy": 1.0},
     r"^config\.rewards\.math_acuracy names no registered reward: 'math_acuracy' \(did you mean 'math_accuracy'"),
    (settings.GRPOSettings, "eval.rewards", {"math_acuracy": 1.0},
     r"^config\.eval\.rewards\.math_acuracy names no registered reward: 'math_acuracy' \(did you mean"),
    (settings.GRPOSettings, "rewards", {"by_prompt_type": {"math": {"math_accuracy": 1.0}, "chat": {"reward_modle": 1}}},
     r"^config\.rewards\.by_prompt_type\.chat\.reward_modle names no registered reward: 'reward_modle' "
     r"\(did you mean 'reward_model'\?\); valid: .*math_accuracy"),
    (settings.GRPOSettings, "rewards", {"overlong": {"max_length": 64}},
     r"^config\.rewards: reward 'overlong': options need a 'weight'"),
    (settings.GRPOSettings, "grpo.loss_type", "dr_grp",
     r"^config\.grpo\.loss_type names no registered policy loss: 'dr_grp' \(did you mean 'dr_grpo'.*; valid: bnpo, "),
    (settings.GRPOSettings, "grpo.advantage_estimator", "grpoo",
     r"^config\.grpo\.advantage_estimator names no registered advantage estimator: 'grpoo' \(did you mean 'grpo'"),
    (settings.GRPOSettings, "task.template", "r1_zeroo",
     r"^config\.task\.template names no registered template: 'r1_zeroo' \(did you mean 'r1_zero'"),
    (settings.SFTSettings, "task.name", "arithmetc",
     r"^config\.task\.name names no registered task: 'arithmetc' \(did you mean 'arithmetic'"),
    (settings.SFTSettings, "model.preset", "tiyn", r"^config\.model\.preset names no registered model preset: 'tiyn'"),
    (settings.SFTSettings, "mixture", {"chat": {"template": "chta"}},
     r"^config\.mixture\.chat\.template names no registered template: 'chta' \(did you mean 'chat'"),
    (settings.SFTSettings, "eval.rewards", {"math_accuracy": 1.0, "reward_model": 1.0},
     r"^config\.eval\.rewards\.reward_model needs a reward model, which only GRPO builds"),
    (settings.DistillSettings, "distill.rewards", {"math_accuracy": 1.0, "think_answr": 1.0},
     r"^config\.distill\.rewards\.think_answr names no registered reward: 'think_answr' \(did you mean "
     r"'think_answer'"),
    (settings.DistillSettings, "teacher.preset", "smal", r"^config\.teacher\.preset names no registered model preset"),
    (settings.RewardModelSettings, "data.template", "chatt", r"^config\.data\.template names no registered template"),
    (settings.EvaluateSettings, "task.template", "r1_zeroo", r"^config\.task\.template names no registered template"),
    (settings.EvaluateSettings, "eval.rewards", {"math_accuracy": 1.0, "tag_cuont": 0.5},
     r"^config\.eval\.rewards\.tag_cuont names no registered reward: 'tag_cuont' \(did you mean 'tag_count'"),
])
def test_a_name_that_selects_no_registered_thing_is_an_error_naming_its_key(cls, key, value, message):
  with pytest.raises(SettingsError, match=message) as e:
    settings.parse(cls, _with(cls, key, value))
  assert "\n" not in str(e.value)


def test_names_registered_before_parsing_are_accepted():
  from r1jax import rewards
  from r1jax.data import templates
  from r1jax.losses import grpo as grpo_losses

  c = _with(settings.GRPOSettings, "rewards", {"brevity_probe": 1.0})
  c["grpo"].update(loss_type="loss_probe", advantage_estimator="estimator_probe")
  c["task"]["template"] = "template_probe"
  with pytest.raises(SettingsError, match="no registered"):  # (none of the four is registered yet)
    settings.parse(settings.GRPOSettings, c)
  rewards.register("brevity_probe", lambda texts: [1.0] * len(texts))
  grpo_losses.POLICY_LOSSES.register("loss_probe", grpo_losses.POLICY_LOSSES["grpo"])
  grpo_losses.ADVANTAGE_ESTIMATORS.register("estimator_probe", grpo_losses.ADVANTAGE_ESTIMATORS["grpo"])
  templates.register("template_probe", templates.TEMPLATES["r1_zero_short"])
  try:
    s = settings.parse(settings.GRPOSettings, c)
    assert (s.rewards, s.grpo.loss_type, s.task.template) == ({"brevity_probe": 1.0}, "loss_probe", "template_probe")
  finally:
    rewards.REWARDS.pop("brevity_probe")
    grpo_losses.POLICY_LOSSES.pop("loss_probe")
    grpo_losses.ADVANTAGE_ESTIMATORS.pop("estimator_probe")
    templates.TEMPLATES.pop("template_probe")


def test_a_stored_run_config_naming_another_processs_registrations_reads_back(tmp_path):
  """A run trained with a reward, loss and template a notebook registered in its own process is read back here (to
  restore its newest checkpoint for evaluation), where those names are not registered."""
  import json

  from r1jax.trainers import evaluate

  c = _with(settings.GRPOSettings, "rewards", {"notebook_reward": 1.0})
  c["grpo"]["loss_type"] = "notebook_loss"
  c["task"]["template"] = "notebook_template"
  with pytest.raises(SettingsError, match="no registered"):
    settings.parse(settings.GRPOSettings, c)
  run = tmp_path / "run"
  (run / "checkpoints").mkdir(parents=True)
  (run / "config.json").write_text(json.dumps({**c, "trainer": "grpo"}))
  trained = evaluate._run_settings(run)
  assert (trained.rewards, trained.grpo.loss_type, trained.task.template) == (
      {"notebook_reward": 1.0}, "notebook_loss", "notebook_template")
  with pytest.raises(SettingsError, match="no registered"):  # the lookups are back outside the read-back
    settings.parse(settings.GRPOSettings, c)


def test_init_from_a_run_directory_names_its_hf_export(tmp_path):
  run = tmp_path / "runs" / "sft"
  (run / "checkpoints").mkdir(parents=True)
  (run / "config.json").write_text(json.dumps(settings.to_dict(settings.SFTSettings())))
  with pytest.raises(SettingsError, match=rf"^config\.model\.init_from='{run}' is an r1jax run directory, not a "
                                          rf"Hugging Face checkpoint: its Hugging Face export {run}/hf is not there"):
    settings.parse(settings.SFTSettings, _with(settings.SFTSettings, "model.init_from", str(run)))
  (run / "hf").mkdir()
  (run / "hf" / "config.json").write_text("{}")
  (run / "hf" / "model.safetensors").write_bytes(b"")
  with pytest.raises(SettingsError, match=rf"^config\.teacher\.init_from='{run}' is an r1jax run directory, not a "
                                          rf"Hugging Face checkpoint: use its Hugging Face export, '{run}/hf'$"):
    settings.parse(settings.DistillSettings, _with(settings.DistillSettings, "teacher.init_from", str(run)))
  s = settings.parse(settings.SFTSettings, _with(settings.SFTSettings, "model.init_from", str(run / "hf")))
  assert s.model.init_from == str(run / "hf")  # the export itself is a Hugging Face checkpoint


def test_a_config_file_that_does_not_load_is_one_line_naming_it(tmp_path):
  for spec, message in (("configs/sft_arithmetc.py:quick", r"^--config configs/sft_arithmetc\.py:quick: no such file: "
                                                           r"'configs/sft_arithmetc\.py'$"),
                        ("configs", r"^--config configs: not a file: 'configs'$"),
                        ("configs/sft_arithmetic.py:quik", r"^--config configs/sft_arithmetic\.py:quik: unknown variant "
                                                           r"'quik' of configs/sft_arithmetic\.py; valid: \('tiny', "
                                                           r"'quick', 'mixture'\)$")):
    with pytest.raises(SettingsError, match=message):
      cli.load_config(spec)
  broken = tmp_path / "broken.py"
  broken.write_text("def get_config(:\n")
  with pytest.raises(SettingsError, match=rf"^--config {broken}: {broken} does not load: SyntaxError: "):
    cli.load_config(str(broken))
  assert cli.load_config("configs/sft_arithmetic.py:quick").train.steps == 150


def test_a_mesh_the_devices_cannot_form_names_config_mesh_and_the_device_count():
  import jax

  n = jax.device_count()
  s = settings.parse(settings.SFTSettings, {"mesh": {"data": n + 1}})
  with pytest.raises(SettingsError, match=rf"^config\.mesh\.data={n + 1} x config\.mesh\.fsdp=-1 x config\.mesh\."
                                          rf"tensor=1 does not fit the {n} devices? of this process: .*their product "
                                          rf"must be {n}"):
    cli.check_mesh(s)
  cli.check_mesh(settings.parse(settings.SFTSettings, {"mesh": {"data": n, "fsdp": 1}}))  # fits
  g = settings.parse(settings.GRPOSettings, {"rollout": {"devices": n}})
  with pytest.raises(SettingsError, match=rf"^config\.rollout\.devices={n} leaves none of the {n} devices"):
    cli.check_mesh(g)
