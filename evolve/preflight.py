"""Checks made before anything is stored: `evolve run` makes them before it creates a run
folder, `evolve resume` before it continues, and `evolve config validate` makes exactly the
same ones, so a config that validates is one that starts.

- the evaluator resolves, takes the configured arguments and builds (its own checks on
  their values run: e.g. EPLB's topology, a workload file that is missing);
- every plug-in (executor, parent selectors, search hooks, LLM providers) resolves and
  takes its arguments;
- every configured model's backend builds (provider known, API key present: for LiteLLM
  models the provider's own variables, for custom servers the ``api_key_env`` named);
- every LLM server given by URL, and OpenAI's default one, answers HTTP at all (so does
  the embeddings server of novelty search, whose key is checked too).

Errors name the file or ``--set`` option that set the offending key.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from evolve.config import Config, LLMConfig
from evolve.config_sources import ConfigLayers
from evolve.errors import UserError
from evolve.evaluation.registry import create_evaluator
from evolve.llm import build_backend
from evolve.llm.base import LLMBackend
from evolve.plugins import check_plugins
from evolve.search.novelty import EmbeddingClient

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
PROBE_TIMEOUT_S = 10.0


@dataclass
class Ready:
    """What the checks built (the run uses the same backend) and what they looked at."""

    backend: LLMBackend
    checked: list[str] = field(default_factory=list)


def preflight(config: Config, sources: ConfigLayers, problem_dir: Path | None) -> Ready:
    """Run every check; raises UserError naming where the offending value was set."""
    checked: list[str] = []
    with sources.blame():
        if config.evaluator and problem_dir is not None:
            create_evaluator(config.evaluator, problem_dir, dict(config.evaluator_args))
            checked.append(f"evaluator '{config.evaluator}' built with its arguments")
        backend = build_backend(config.llm, config.seed)
        check_plugins(config)  # executor, parent selectors, search hooks: names and args
        checked.append("plug-ins: names and arguments")
        embedding = config.search.novelty.embedding
        if config.search.novelty.enabled and embedding.model:
            EmbeddingClient(embedding)  # its key, as for the models
            if embedding.base_url:
                reason = probe(embedding.base_url, min(embedding.timeout_s, PROBE_TIMEOUT_S))
                if reason:
                    raise UserError(f"cannot reach the embeddings server at {embedding.base_url} "
                                    f"({reason})", "search.novelty.embedding.base_url")
            checked.append(f"embeddings model '{embedding.model}': API key, server")
        if config.llm.models:
            reached = check_endpoints(config.llm)
            checked.append(f"{len(config.llm.models)} model(s): provider and API key")
            checked += [f"LLM server {url} answers" for url in reached]
        else:
            checked.append("no model configured: the offline mutation engine")
    return Ready(backend, checked)


def endpoint_urls(llm: LLMConfig) -> dict[str, str]:
    """URL -> the config key it comes from, for every server a model is reached at.

    OpenAI-protocol models without ``base_url`` use OpenAI's server; LiteLLM models
    without one use their provider's own endpoint, which is not probed.
    """
    urls: dict[str, str] = {}
    for index, model in enumerate(llm.models):
        if model.provider == "openai":
            urls.setdefault(model.base_url or OPENAI_DEFAULT_URL, f"llm.models[{index}].base_url")
        elif model.provider == "litellm" and model.base_url:
            urls.setdefault(model.base_url, f"llm.models[{index}].base_url")
    return urls


def check_endpoints(llm: LLMConfig) -> list[str]:
    """Every server answers an HTTP request (any status: only reachability is checked)."""
    timeout = min(llm.timeout_s, PROBE_TIMEOUT_S)
    for url, key in endpoint_urls(llm).items():
        reason = probe(url, timeout)
        if reason:
            raise UserError(
                f"cannot reach the LLM server at {url} ({reason}); check base_url and that the "
                "server is up",
                key,
            )
    return list(endpoint_urls(llm))


def probe(base_url: str, timeout_s: float) -> str:
    """"" when ``GET <base_url>/models`` gets any HTTP answer, else why not."""
    request = urllib.request.Request(base_url.rstrip("/") + "/models", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s):
            return ""
    except urllib.error.HTTPError:
        return ""  # it answered (401, 404, ...): reachable; the first call reports the rest
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except (TimeoutError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
