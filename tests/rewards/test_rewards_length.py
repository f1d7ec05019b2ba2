"""Length shaping against hand-computed values."""

from __future__ import annotations

import math

import pytest

from r1jax.rewards import length


def test_overlong_penalty_hand_values():
  # L_max = 100, L_buf = 20: free up to 80, then linear to -1 at 100, -1 beyond.
  got = length.overlong_penalty([0, 80, 81, 90, 95, 100, 101, 1000], max_length=100, buffer_length=20)
  assert got == pytest.approx([0.0, 0.0, -0.05, -0.5, -0.75, -1.0, -1.0, -1.0])


def test_overlong_penalty_validates():
  with pytest.raises(ValueError):
    length.overlong_penalty([1], max_length=10, buffer_length=0)
  with pytest.raises(ValueError):
    length.overlong_penalty([1], max_length=10, buffer_length=11)


def test_cosine_scaled_hand_values():
  lengths = [0, 25, 50, 100, 150]
  correct = length.cosine_scaled_reward([True] * 5, lengths, max_length=100)
  wrong = length.cosine_scaled_reward([False] * 5, lengths, max_length=100)
  c25 = 0.5 + 0.5 * (1 + math.cos(math.pi / 4)) / 2  # 0.9267...
  assert correct == pytest.approx([1.0, c25, 0.75, 0.5, 0.5])
  w25 = -0.5 + -0.5 * (1 + math.cos(math.pi / 4)) / 2  # -0.9267...
  assert wrong == pytest.approx([-1.0, w25, -0.75, -0.5, -0.5])
  # Shorter correct answers earn more; longer wrong answers are penalised less.
  assert correct[0] > correct[2] > correct[3] and wrong[0] < wrong[2] < wrong[3]


def test_cosine_scaled_custom_values_and_exceed():
  got = length.cosine_scaled_reward([True, False, True], [50, 50, 200], max_length=100, correct_at_0=2.0,
                                    correct_at_max=1.0, wrong_at_0=-10.0, wrong_at_max=0.0, exceed=-10.0)
  assert got == pytest.approx([1.5, -5.0, -10.0])


def test_repetition_penalty_hand_values():
  texts = ["a b c a b c", "the cat sat on the mat", "x x x x x", "too short", ""]
  # 3-grams: abc bca cab abc -> 3 distinct of 4; all distinct; xxx x3 -> 1 of 3; fewer than 3 words -> 0.
  got = length.repetition_penalty(texts, ngram_size=3, max_penalty=-1.0)
  assert got == pytest.approx([-0.25, 0.0, -2 / 3, 0.0, 0.0])
  assert length.repetition_penalty(["A b A b"], ngram_size=2, max_penalty=-0.5) == pytest.approx([-0.5 / 3])


def test_repetition_penalty_validates():
  with pytest.raises(ValueError):
    length.repetition_penalty(["a"], max_penalty=0.5)
  with pytest.raises(ValueError):
    length.repetition_penalty(["a"], ngram_size=0)
