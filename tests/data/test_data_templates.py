"""Templates render the exact strings, and their prefill is what rewards judge with the completion."""

import pytest

from r1jax.data import templates

PAPER_R1_ZERO = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
    "assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: What is "
    "2 + 3. Assistant:")

TINYZERO_COUNTDOWN = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
    "assistant first thinks about the reasoning process in the mind and then provides the user with the answer.\n"
    "User: Using the numbers [3, 5, 7], create an equation that equals 22. You can use basic arithmetic "
    "operations (+, -, *, /) and each number can only be used once. Show your work in <think> </think> tags. And "
    "return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>.\n"
    "Assistant: Let me solve this step by step.\n<think>")


def test_r1_zero_exact():
  p = templates.render("r1_zero", {"question": "What is 2 + 3"})
  assert p.prompt == PAPER_R1_ZERO + " <think>"
  assert p.prefill == "<think>"
  raw = templates.render("r1_zero_no_prefill", {"question": "What is 2 + 3"})
  assert raw.prompt == PAPER_R1_ZERO and raw.prefill == ""
  # A question's own final period is not doubled by the template's.
  assert templates.render("r1_zero", {"question": "What is 2 + 3."}).prompt == p.prompt


def test_r1_zero_short_exact():
  p = templates.render("r1_zero_short", {"question": "What is 2 + 3?"})
  assert p.prompt == "User: What is 2 + 3?\nAssistant: <think>"
  assert p.judged("5</think><answer>5</answer>") == "<think>5</think><answer>5</answer>"


def test_r1_zero_short_without_prefill_is_the_same_text_up_to_think():
  with_think = templates.render("r1_zero_short", {"question": "What is 2 + 3?"})
  bare = templates.render("r1_zero_short", {"question": "What is 2 + 3?"}, prefill_think=False)
  assert bare.prompt == "User: What is 2 + 3?\nAssistant: " and bare.prefill == ""
  assert with_think.prompt == bare.prompt + "<think>"
  assert bare.judged("<think>5</think><answer>5</answer>") == "<think>5</think><answer>5</answer>"


def test_countdown_exact():
  p = templates.render("countdown", {"question": "ignored", "numbers": [3, 5, 7], "target": 22})
  assert p.prompt == TINYZERO_COUNTDOWN
  assert p.prefill == "<think>"


def test_chat_template_with_generation_prompt(builtin_tok):
  p = templates.render("chat", {"question": "What is 2 + 3?"}, builtin_tok, system="Think first.")
  assert p.prompt == "<bos>Think first.\nUser: What is 2 + 3?\nAssistant: "
  assert p.prefill == ""
  p = templates.render("chat", {"question": "What is 2 + 3?"}, builtin_tok, prefill="<think>")
  assert p.prompt == "<bos>User: What is 2 + 3?\nAssistant: <think>" and p.prefill == "<think>"
  p = templates.render("chat", {"question": "Q"}, builtin_tok, suffix="Answer in <answer> </answer>.")
  assert p.prompt == "<bos>User: Q Answer in <answer> </answer>.\nAssistant: "


def test_chat_template_that_opens_think_becomes_prefill(builtin_tok):
  class OpensThink:
    chat_template = "x"

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
      assert not tokenize and add_generation_prompt
      return f"<|User|>{messages[-1]['content']}<|Assistant|><think>\n"

  p = templates.render("chat", {"question": "Q"}, OpensThink())
  assert p.prompt == "<|User|>Q<|Assistant|><think>\n" and p.prefill == "<think>\n"


def test_registry_errors_list_valid_names():
  with pytest.raises(KeyError, match="r1_zero"):
    templates.render("nope", {"question": "q"})
  with pytest.raises(KeyError, match="numbers"):
    templates.render("countdown", {"question": "q", "target": 3})
  with pytest.raises(ValueError, match="tokenizer"):
    templates.render("chat", {"question": "q"})
  with pytest.raises(ValueError, match="suffix"):
    templates.Prompt("abc", "x")


@pytest.mark.parametrize("trace,prefill,rest", [
    ("<think>a</think><answer>1</answer>", "<think>", "a</think><answer>1</answer>"),
    ("<think>\na</think>", "<think>\n", "a</think>"),
    ("<think>a</think>", "", "<think>a</think>"),
    ("a</think>", "<think>", "a</think>"),
])
def test_strip_prefill(trace, prefill, rest):
  assert templates.strip_prefill(trace, prefill) == rest


def test_batch_render():
  ps = templates.render_batch("r1_zero_short", [{"question": "a"}, {"question": "b"}])
  assert [p.prompt for p in ps] == ["User: a\nAssistant: <think>", "User: b\nAssistant: <think>"]
