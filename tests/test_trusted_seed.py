"""Seeds only the trusted side knows (evolve/evaluation/trusted_seed.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from evolve.errors import UserError
from evolve.evaluation import trusted_seed


@pytest.fixture
def secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "secret"
    monkeypatch.setenv(trusted_seed.ENV_VAR, str(path))
    return path


def test_the_secret_is_made_once_and_readable_only_by_its_owner(secret_file: Path) -> None:
    first = trusted_seed.trusted_seed("eplb/train")
    assert secret_file.is_file() and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret_file.parent.stat().st_mode) == 0o700
    assert trusted_seed.trusted_seed("eplb/train") == first  # same installation, same seed
    assert trusted_seed.trusted_seed("eplb/holdout") != first
    assert 0 <= trusted_seed.trusted_seed("x", bits=32) < 2**32


def test_another_installation_draws_other_seeds(secret_file: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    mine = trusted_seed.trusted_seed("eplb/train")
    monkeypatch.setenv(trusted_seed.ENV_VAR, str(tmp_path / "other"))
    assert trusted_seed.trusted_seed("eplb/train") != mine


def test_a_truncated_secret_is_one_clear_error(secret_file: Path) -> None:
    secret_file.parent.mkdir(parents=True)
    secret_file.write_bytes(b"short")
    with pytest.raises(UserError) as error:
        trusted_seed.trusted_seed("eplb/train")
    assert error.value.where == str(secret_file) and "truncated" in error.value.message


@pytest.mark.parametrize("value, expected", [(7, 7), (0, 0)])
def test_public_seeds_pass_through(value: int, expected: int) -> None:
    assert trusted_seed.seed_from(value, "label", "evaluator_args.seed") == expected


@pytest.mark.parametrize("value", [-1, 1.5, "seven", True, None])
def test_bad_seeds_name_their_key(value: object) -> None:
    with pytest.raises(UserError) as error:
        trusted_seed.seed_from(value, "label", "evaluator_args.holdout_seed")
    assert error.value.where == "evaluator_args.holdout_seed"
