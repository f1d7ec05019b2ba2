"""Fixtures for the data tests: the built-in tokenizer, built once per session into a temp dir."""

import pytest

from r1jax import tokenizer as tok_lib


@pytest.fixture(scope="session")
def builtin_tok(tmp_path_factory):
  return tok_lib.build_builtin_tokenizer(tmp_path_factory.mktemp("data_builtin_tok"))
