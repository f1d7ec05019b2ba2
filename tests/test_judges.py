"""Judges: a verifier's P(Yes) and a reward model's score against transformers, normalisations and selection by hand."""

import math

import jax
import numpy as np
import pytest
import torch
import transformers

from r1jax import judges
from r1jax.models import get_config, hf, init_params, reward_model
from r1jax.tokenizer import load_tokenizer

PROMPTS = ["User: What is 2 + 2?\nAssistant: ", "User: Spell cat.\nAssistant: ", "User: hi\nAssistant: "]
RESPONSES = ["<think>2 + 2 = 4.</think><answer>4</answer>", "Sure! c a t. Hope this helps!", "Ugh. " + "x" * 80]


@pytest.fixture(scope="module")
def tok():
  return load_tokenizer("builtin")


@pytest.fixture(scope="module")
def tiny_cfg():
  return get_config("tiny", hidden_size=32, intermediate_size=64, num_layers=1, eos_token_id=2, pad_token_id=0,
                    bos_token_id=1)


def test_verifier_score_is_the_yes_probability_transformers_gives(tok, tiny_cfg, tmp_path):
  params = init_params(tiny_cfg, jax.random.PRNGKey(0))
  hf.save_pretrained(tmp_path, tiny_cfg, params)
  model = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
  judge = judges.VerifierJudge(tiny_cfg, params, tok, yes_words=("Yes", "yes"), no_words=("No",), batch_size=2,
                               max_len=200)
  ours = judge.scores(PROMPTS, RESPONSES)
  assert judge.num_truncated == 1  # the long third text keeps its last 200 tokens, verification question included
  yes, no = [tok.convert_tokens_to_ids(c) for c in "Yy"], [tok.convert_tokens_to_ids("N")]
  for i, text in enumerate(judge.texts(PROMPTS, RESPONSES)):
    ids = ([tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"])[-200:]
    with torch.no_grad():
      probs = torch.softmax(model(input_ids=torch.tensor([ids])).logits[0, -1].double(), -1).numpy()
    assert ours[i] == pytest.approx(probs[yes].sum() / (probs[yes].sum() + probs[no].sum()), abs=1e-5)
  assert judge.texts(PROMPTS, RESPONSES)[0].endswith("4</answer>\n\nA careful grader checks the response above. "
                                                     "Is it correct and well reasoned? Answer Yes or No.\nVerdict: ")
  with pytest.raises(ValueError, match="share a first token"):  # " Yes" and " No" both start with " " here
    judges.VerifierJudge(tiny_cfg, params, tok, yes_words=(" Yes",), no_words=(" No",))


def test_reward_model_judge_scores_what_transformers_scores(tok, tiny_cfg, tmp_path):
  params = reward_model.init_params(tiny_cfg, jax.random.PRNGKey(1))
  hf.save_reward_model(tmp_path, tiny_cfg, params)
  model = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path, attn_implementation="eager")
  judge = judges.RewardModelJudge(tiny_cfg, params, tok, batch_size=2, max_len=128)  # 3 texts: 2 batches
  raw = judge.raw_scores(PROMPTS, RESPONSES)
  for i, (p, r) in enumerate(zip(PROMPTS, RESPONSES)):
    ids = [tok.bos_token_id] + tok(p + r, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    with torch.no_grad():
      assert raw[i] == pytest.approx(float(model.eval()(input_ids=torch.tensor([ids])).logits[0, 0]), abs=1e-5)
  # The normalisations, by hand from the raw scores.
  sig = judges.RewardModelJudge(tiny_cfg, params, tok, normalize="sigmoid", offset=0.5, scale=2.0)
  np.testing.assert_allclose(sig.scores(PROMPTS, RESPONSES), 1 / (1 + np.exp(-(raw - 0.5) / 2.0)), atol=1e-6)
  z = judges.RewardModelJudge(tiny_cfg, params, tok, normalize="zscore").scores(PROMPTS, RESPONSES)
  np.testing.assert_allclose(z, (raw - raw.mean()) / (raw.std() + 1e-6), atol=1e-4)
  # As the `reward_model` reward: the completion follows the rendered prompt.
  values, stats = judge(RESPONSES, prompt_text=PROMPTS)
  np.testing.assert_allclose(values, raw, atol=1e-6)
  assert stats == {"truncated": 0}
  with pytest.raises(ValueError, match="normalize"):
    judges.RewardModelJudge(tiny_cfg, params, tok, normalize="softmax")


def test_select_by_threshold_and_top_fraction():
  scores = [0.2, 0.9, 0.5, 0.9, 0.1]
  assert judges.select(scores).tolist() == [True] * 5
  assert judges.select(scores, threshold=0.5).tolist() == [False, True, True, True, False]
  # ceil(0.5 * 5) = 3 best; the two 0.9s and the 0.5.
  assert judges.select(scores, top_fraction=0.5).tolist() == [False, True, True, True, False]
  assert judges.select(scores, top_fraction=0.2).tolist() == [False, True, False, False, False]  # a tie: earlier
  assert judges.select(scores, threshold=0.6, top_fraction=0.6).tolist() == [False, True, False, True, False]
  with pytest.raises(ValueError, match="top_fraction"):
    judges.select(scores, top_fraction=0.0)


def test_judge_records_keeps_every_score():
  records = [{"question": f"q{i}", "completion": c} for i, c in enumerate(["aaa", "b", "cc"])]
  out = judges.judge_records(records, ["x", "y", "z"], lambda p, r: [len(a) + len(b) for a, b in zip(p, r)],
                             top_fraction=0.5)
  assert [(r["judge_score"], r["judge_kept"]) for r in out] == [(4.0, True), (2.0, False), (3.0, True)]
  assert out[0]["question"] == "q0" and "judge_score" not in records[0]
  assert judges.select([-1e30], threshold=-math.inf).tolist() == [True]  # the default threshold keeps everything
