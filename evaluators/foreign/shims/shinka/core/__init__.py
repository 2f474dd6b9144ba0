"""``from shinka.core import run_shinka_eval`` (see wrap_eval.py)."""

from shinka.core.wrap_eval import load_program, run_shinka_eval, save_json_results

__all__ = ["load_program", "run_shinka_eval", "save_json_results"]
