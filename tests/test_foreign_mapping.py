"""OpenEvolve and ShinkaEvolve configs mapped onto ours: every key mapped or warned about once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from evolve.errors import UserError
from evolve.problem import load_problem

FOLDERS = Path(__file__).resolve().parent / "foreign_folders"


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FOLDERS / name, target)
    return target


def write_config(folder: Path, data: dict, name: str = "config.yaml") -> None:
    (folder / name).write_text(yaml.safe_dump(data), encoding="utf-8")


def test_openevolve_config_maps_onto_ours() -> None:
    problem = load_problem(FOLDERS / "openevolve_cascade")
    cfg = problem.config
    assert problem.layout == "openevolve"
    assert cfg.evaluator == "openevolve"
    assert cfg.evaluator_args == {"cascade": True, "cascade_thresholds": [0.05]}
    assert cfg.budget.iterations == 3 and cfg.seed == 7
    assert cfg.prompt.mode == "diff" and cfg.llm.temperature == 0.6
    assert cfg.constraints.timeout_s == 30 and cfg.evaluation.workers == 1
    db = cfg.database
    assert (db.num_islands, db.archive_size, db.migration_interval, db.migration_rate) == (2, 20, 5, 0.2)
    assert db.num_top_inspirations == 2
    assert [(s.name, s.weight) for s in db.parent_selection] == [
        ("explore", 0.3), ("exploit", 0.6), ("elite", 0.1)]
    assert problem.description.startswith("Make estimate_pi converge faster")
    assert problem.initial_programs[0][0] == "initial_program.py"
    # each key without an equivalent is named once, with the reason
    unmapped = ["checkpoint_interval", "log_level", "llm.top_p", "prompt.use_template_stochasticity",
                "database.population_size", "evaluator.max_retries"]
    assert len(problem.warnings) == len(unmapped)
    for key, line in zip(unmapped, problem.warnings):
        assert line.startswith(f"config.yaml: {key}: ") and line.endswith("; ignored")
    assert "nothing to checkpoint" in problem.warnings[0]


def test_openevolve_models_keys_and_api_base(tmp_path: Path) -> None:
    folder = copy("openevolve_llm", tmp_path)
    data = yaml.safe_load((folder / "config.yaml").read_text())
    data["llm"]["models"] = [{"name": "listed", "weight": 2, "api_base": "http://10.0.0.9/v1",
                              "temperature": 0.1, "top_p": 0.5}]
    data["llm"]["secondary_model_weight"] = 0  # OpenEvolve leaves such a model out
    write_config(folder, data)
    problem = load_problem(folder)
    llm = problem.config.llm
    assert [(m.name, m.weight, m.base_url, m.api_key_env, m.temperature) for m in llm.models] == [
        ("listed", 2.0, "http://10.0.0.9/v1", "FAKE_LLM_KEY", 0.1),
        ("fake-large", 0.8, "http://127.0.0.1:8000/v1", "FAKE_LLM_KEY", None),
    ]
    assert all(m.provider == "openai" for m in llm.models)
    assert (llm.temperature, llm.max_tokens, llm.timeout_s, llm.retries, llm.backoff_s) == (
        0.5, 2048, 30, 1, 0)
    assert problem.warnings == ["config.yaml: llm.models[0].top_p: no equivalent (evolve sends "
                                "the temperature only); ignored"]


def test_openevolve_secondary_default_weight_and_literal_key(tmp_path: Path) -> None:
    folder = copy("openevolve_llm", tmp_path)
    data = yaml.safe_load((folder / "config.yaml").read_text())
    del data["llm"]["secondary_model_weight"]
    data["llm"]["api_key"] = "sk-written-in-the-file"
    data["llm"]["api_base"] = "https://api.openai.com/v1"
    write_config(folder, data)
    problem = load_problem(folder)
    models = problem.config.llm.models
    assert [(m.name, m.weight, m.base_url, m.api_key_env) for m in models] == [
        ("fake-large", 0.8, None, "OPENAI_API_KEY"), ("fake-small", 0.2, None, "OPENAI_API_KEY")]
    assert any("llm.api_key: a key written in the file is not copied" in w
               for w in problem.warnings)
    assert "sk-written" not in " ".join(problem.warnings)


def test_openevolve_database_features_novelty_and_evaluator(tmp_path: Path) -> None:
    folder = copy("openevolve_artifacts", tmp_path)
    write_config(folder, {
        "diff_based_evolution": False,
        "database": {"feature_dimensions": ["complexity", "score", "sorted_fraction"],
                     "feature_bins": {"complexity": 4, "score": 6},
                     "embedding_model": "text-embedding-3-small", "similarity_threshold": 0.9,
                     "exploitation_ratio": 0.5},
        "evaluator": {"memory_limit_mb": 2048, "cascade_evaluation": False,
                      "enable_artifacts": False, "timeout": 12},
    })
    problem = load_problem(folder)
    cfg = problem.config
    assert cfg.prompt.mode == "rewrite" and cfg.prompt.include_artifacts is False
    assert cfg.database.feature_dimensions == ["complexity", "combined_score", "sorted_fraction"]
    assert cfg.database.feature_bins == 6
    assert [(s.name, s.weight) for s in cfg.database.parent_selection] == [
        ("explore", 0.2), ("exploit", 0.5), ("elite", 0.1)]
    novelty = cfg.search.novelty
    assert novelty.enabled and novelty.threshold == 0.9
    assert novelty.embedding.model == "text-embedding-3-small"
    assert cfg.evaluator_args == {"feature_dimensions": ["sorted_fraction"], "memory_mb": 2048,
                                  "cascade": False}
    assert cfg.constraints.timeout_s == 12
    assert problem.warnings == ["config.yaml: database.feature_bins: evolve uses one bin count "
                                "for every dimension: took the largest (6)"]


def test_openevolve_defaults_without_config() -> None:
    problem = load_problem(FOLDERS / "openevolve_artifacts")
    assert problem.warnings == []
    assert problem.config.constraints.timeout_s == 300  # OpenEvolve's evaluator.timeout
    assert problem.config.evaluator_args == {}
    assert "combined_score" in problem.description


def test_later_layers_override_a_foreign_config(tmp_path: Path) -> None:
    problem = load_problem(FOLDERS / "openevolve_cascade", None,
                           ["budget.iterations=9", "evaluator_args.cascade=false"])
    assert problem.config.budget.iterations == 9
    assert problem.config.evaluator_args["cascade"] is False
    assert problem.config.evaluator_args["cascade_thresholds"] == [0.05]


def test_a_foreign_value_of_the_wrong_type_names_the_foreign_key(tmp_path: Path) -> None:
    folder = copy("openevolve_cascade", tmp_path)
    write_config(folder, {"database": {"num_islands": "four"}})
    with pytest.raises(UserError) as caught:
        load_problem(folder)
    assert caught.value.where == f"{folder / 'config.yaml'}: database.num_islands"
    assert "expected an integer" in caught.value.message


def test_other_configs_are_named_and_markers_are_added(tmp_path: Path) -> None:
    folder = copy("openevolve_llm", tmp_path)
    (folder / "config_phase_2.yaml").write_text("max_iterations: 5\n")
    (folder / "initial_program.py").write_text("RATE = 0.5\n\ndef growth(years):\n"
                                               "    return (1 + RATE) ** years\n")
    problem = load_problem(folder)
    assert any(w.startswith("config_phase_2.yaml: not read (only config.yaml is)")
               for w in problem.warnings)
    assert any("no EVOLVE-BLOCK markers" in w for w in problem.warnings)
    code = problem.initial_programs[0][1]
    assert code.startswith("# EVOLVE-BLOCK-START\nRATE = 0.5\n")
    assert code.endswith("# EVOLVE-BLOCK-END\n")


def test_shinka_config_maps_onto_ours() -> None:
    problem = load_problem(FOLDERS / "shinka_knapsack")
    cfg = problem.config
    assert problem.layout == "shinka" and cfg.evaluator == "shinka"
    assert cfg.initial_programs == ["initial.py"]
    assert problem.description.startswith("Choose knapsack items")
    assert cfg.budget.iterations == 3 and cfg.constraints.timeout_s == 60
    assert cfg.prompt.mode == "diff" and cfg.prompt.rewrite_every == 3  # full: 0.3 of 0.9
    assert cfg.search.retry_failed_edit is True
    assert cfg.search.scratchpad.enabled and cfg.search.scratchpad.every == 2
    assert (cfg.database.num_islands, cfg.database.archive_size) == (1, 10)
    assert cfg.evaluation.workers == 1
    keys = [w.split(": ")[1] for w in problem.warnings]
    assert keys == ["evo_config.patch_types", "evo_config.max_patch_attempts", "max_db_workers",
                    "evo_config.results_dir", "evo_config.wandb_project",
                    "db_config.parent_selection_strategy"]
    assert problem.warnings[0].startswith("shinka.yaml: evo_config.patch_types: 'cross'")


def test_shinka_models_temperatures_selection_and_novelty(tmp_path: Path) -> None:
    folder = copy("shinka_knapsack", tmp_path)
    write_config(folder, {
        "evo": {"llm_models": ["gpt-4.1-mini", "local/qwen@http://127.0.0.1:9000/v1",
                               "openrouter/qwen/qwen3-coder", "gemini-2.5-flash"],
                "llm_kwargs": {"temperatures": [0.0, 0.5, 1.0], "max_tokens": 8192,
                               "reasoning_efforts": ["low"]},
                "llm_dynamic_selection": "ucb1",
                "llm_dynamic_selection_kwargs": {"exploration_coef": 2.0, "cost_aware_coef": 0.3},
                "patch_types": ["full"], "max_api_costs": 1.5,
                "embedding_model": "text-embedding-3-small", "code_embed_sim_threshold": 0.97,
                "max_novelty_attempts": 4, "use_text_feedback": True},
        "job": {"time": "00:02:30", "conda_env": "x"},
    }, name="shinka.yaml")
    cfg = load_problem(folder).config
    models = [(m.name, m.provider, m.base_url) for m in cfg.llm.models]
    assert models == [("gpt-4.1-mini", "openai", None), ("qwen", "openai", "http://127.0.0.1:9000/v1"),
                      ("openrouter/qwen/qwen3-coder", "litellm", None),
                      ("gemini-2.5-flash", "openai", None)]
    assert cfg.llm.temperature == 0.5 and cfg.llm.max_tokens == 8192
    assert cfg.llm.selection == "ucb"
    assert (cfg.llm.bandit.exploration, cfg.llm.bandit.cost_weight) == (2.0, 0.3)
    assert cfg.prompt.mode == "rewrite" and cfg.prompt.include_artifacts is True
    assert cfg.budget.usd == 1.5 and cfg.constraints.timeout_s == 150
    novelty = cfg.search.novelty
    assert (novelty.enabled, novelty.threshold, novelty.max_resamples) == (True, 0.97, 4)
    warnings = load_problem(folder).warnings
    assert any("'gemini-2.5-flash' is sent to an OpenAI-compatible server" in w for w in warnings)
    assert any("llm_kwargs.temperatures: evolve uses one temperature" in w for w in warnings)
    assert any(w.startswith("shinka.yaml: evo.llm_kwargs.reasoning_efforts") for w in warnings)
    assert any(w.startswith("shinka.yaml: job.conda_env: no equivalent") for w in warnings)


def test_shinka_several_configs_none_read(tmp_path: Path) -> None:
    folder = copy("shinka_knapsack", tmp_path)
    shutil.move(folder / "shinka.yaml", folder / "shinka_small.yaml")
    (folder / "shinka_large.yaml").write_text("evo_config: {num_generations: 500}\n")
    problem = load_problem(folder)
    assert problem.config.budget.iterations == 100  # evolve's default: no config was read
    assert problem.warnings == [
        f"shinka_large.yaml, shinka_small.yaml: several configs, none read; to use one, evolve "
        f"import shinka {folder} --arg config=NAME -o DIR"]
    (folder / "shinka_large.yaml").unlink()
    assert load_problem(folder).config.budget.iterations == 3  # the only one is read


def test_a_folder_in_both_formats_is_refused(tmp_path: Path) -> None:
    folder = copy("shinka_knapsack", tmp_path)
    for name in ("initial_program.py", "evaluator.py"):
        shutil.copy(FOLDERS / "openevolve_llm" / name, folder / name)
    with pytest.raises(UserError, match="both OpenEvolve and ShinkaEvolve"):
        load_problem(folder)


def test_a_folder_of_no_known_format_still_asks_for_problem_yaml(tmp_path: Path) -> None:
    (tmp_path / "evaluator.py").write_text("def evaluate(p):\n    return {}\n")
    with pytest.raises(UserError, match="no problem.yaml"):
        load_problem(tmp_path)
