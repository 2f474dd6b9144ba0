"""Config schema: precedence, unknown keys, wrong types, --set parsing, config init."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evolve.config import Config, load_config, parse_set, read_yaml, to_dict
from evolve.config_template import default_config_yaml
from evolve.errors import UserError


def test_precedence_defaults_problem_file_set(tmp_path: Path) -> None:
    cfg_file = tmp_path / "run.yaml"
    cfg_file.write_text("budget: {iterations: 7}\nllm: {temperature: 0.2}\n")
    problem = {"name": "p", "evaluator": "e", "budget": {"iterations": 3, "evaluations": 9}, "seed": 5}
    cfg = load_config(problem, "problem.yaml", cfg_file, ["llm.temperature=0.9", "database.num_islands=2"])
    assert cfg.budget.iterations == 7  # file beats problem
    assert cfg.budget.evaluations == 9  # problem beats defaults
    assert cfg.llm.temperature == 0.9  # --set beats file
    assert cfg.database.num_islands == 2
    assert cfg.seed == 5
    assert cfg.database.archive_size == Config().database.archive_size


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    cfg_file = tmp_path / "run.yaml"
    cfg_file.write_text("database:\n  num_island: 3\n")
    with pytest.raises(UserError) as info:
        load_config({}, "problem.yaml", cfg_file)
    assert str(cfg_file) in str(info.value) and "database.num_island" in str(info.value)
    assert "unknown key" in str(info.value)


def test_wrong_type_names_expected_type() -> None:
    with pytest.raises(UserError) as info:
        load_config({"llm": {"models": [{"name": "m", "weight": "heavy"}]}})
    assert "llm.models[0].weight" in str(info.value)
    assert "expected float" in str(info.value)


def test_bool_is_not_an_int() -> None:
    with pytest.raises(UserError, match="budget.iterations"):
        load_config({"budget": {"iterations": True}})


def test_set_override_error_names_flag() -> None:
    with pytest.raises(UserError) as info:
        load_config({}, overrides=["budget.iterations=many"])
    assert "--set budget.iterations=many" in str(info.value)


def test_parse_set_nested_and_yaml_values() -> None:
    assert parse_set("a.b.c=3") == {"a": {"b": {"c": 3}}}
    assert parse_set("x=[1, 2]") == {"x": [1, 2]}
    assert parse_set("s=hello") == {"s": "hello"}
    with pytest.raises(UserError):
        parse_set("novalue")


def test_evaluator_args_merge_keeps_other_keys() -> None:
    cfg = load_config({"evaluator_args": {"a": 1, "b": 2}}, overrides=["evaluator_args.b=3"])
    assert cfg.evaluator_args == {"a": 1, "b": 3}


def test_semantic_checks() -> None:
    with pytest.raises(UserError, match="must not all be 0"):
        load_config({"database": {"parent_selection": [{"name": "explore", "weight": 0}]}})
    with pytest.raises(UserError, match="replaced by database.parent_selection"):
        load_config({"database": {"elite_ratio": 0.5}})
    with pytest.raises(UserError, match="evaluation.workers"):
        load_config({"evaluation": {"workers": 0}})


def test_bad_yaml_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("llm: [unclosed\n")
    with pytest.raises(UserError) as info:
        read_yaml(bad)
    assert "\n" not in str(info.value) and "invalid YAML" in str(info.value)
    with pytest.raises(UserError, match="file not found"):
        read_yaml(tmp_path / "missing.yaml")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(UserError, match="mapping"):
        read_yaml(scalar)


def test_config_init_template_is_the_defaults() -> None:
    data = yaml.safe_load(default_config_yaml())
    assert to_dict(load_config(data)) == to_dict(Config())


def test_errors_after_merging_name_the_layer_that_set_the_value() -> None:
    from evolve.config import config_layers, merge_layers
    from evolve.config_sources import ConfigLayers

    problem = {"evaluator": "eplb", "evaluator_args": {"num_gpus": 32, "num_nodes": 4},
               "llm": {"models": [{"name": "m"}]}}
    layers = config_layers(problem, "p/problem.yaml", overrides=["evaluator_args.num_nodes=3"])
    assert layers.origin("evaluator_args.num_gpus") == "p/problem.yaml"
    assert layers.origin("evaluator_args.num_nodes") == "--set evaluator_args.num_nodes=3"
    assert layers.origin("evaluator_args") == "p/problem.yaml, --set evaluator_args.num_nodes=3"
    assert layers.origin("llm.models[0].api_key_env") == "p/problem.yaml"  # lists are set whole
    assert layers.origin("budget.iterations") == ""  # a default
    # The evaluator blames num_gpus; the message names num_nodes, which the command line set.
    error = UserError("num_gpus (32) must be a multiple of num_nodes (3)", "evaluator_args.num_gpus")
    located = layers.locate(error)
    assert located.where == "--set evaluator_args.num_nodes=3: evaluator_args.num_nodes"
    assert ConfigLayers().locate(error) is error  # nothing to say where: unchanged
    with pytest.raises(UserError) as caught:  # value checks after merging name the layer too
        merge_layers(config_layers(problem, "p/problem.yaml", overrides=["database.num_islands=0"]))
    assert caught.value.where == "--set database.num_islands=0: database.num_islands"
