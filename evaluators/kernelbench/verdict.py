"""Trusted-side verdict: the candidate's answers against the reference's, call by call.

Both processes ran the same :class:`~evaluators.kernelbench.script.Script`. First failure
wins, in call order; for each forward call: it raised; output structure, dtype, shape;
then, when the call was inspected: output aliasing an input, an input changed, no Triton
launch, forbidden or non-kernel aten ops, values (zeros, constant, uncorrelated,
tolerance; a refilled call that returned the previous output is reported as caching),
determinism; then the output's keyed sums (:mod:`evaluators.kernelbench.sums`), under
the key sent with the call and under the key sent after it. Launch counts, aten ops and
aliasing are reported from inside the candidate's process (a first filter); values and
sums are compared with what the reference's process computed, and the times are the
sandbox zygote's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluators.kernelbench.checks import MEMORY_AND_VIEW_OPS, as_array, compare_values, same_bits
from evaluators.kernelbench.script import Script, ShapeScript, Step
from evaluators.kernelbench.sums import mismatch
from evolve.evaluation.sandbox import CallOutcome, SandboxResult


@dataclass
class Rules:
    atol: float
    rtol: float
    require_triton: bool = False
    allowed_ops: frozenset[str] = MEMORY_AND_VIEW_OPS
    forbidden_ops: frozenset[str] = frozenset()
    deterministic: bool = True
    min_correlation: float = 0.9
    class_name: str = "ModelNew"


@dataclass
class Verdict:
    reason: str = ""
    detail: str = ""
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    checked_calls: int = 0
    inspected_calls: int = 0
    value_sets: int = 0
    lines: list[str] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)  # candidate, seconds
    reference_times: dict[str, list[float]] = field(default_factory=dict)
    output_specs: dict[str, list[list[Any]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.reason


def _first(text: str) -> str:
    return text.splitlines()[0] if text else "error"


def reference_problem(script: Script, ref: SandboxResult) -> str:
    """"" when the reference's process answered every call of ``script``."""
    if not ref.ok:
        return ref.reason
    for outcome in ref.calls:
        if not outcome.ok:
            return _first(outcome.error)
    if len(ref.calls) != script.call_count:
        return f"answered {len(ref.calls)} of {script.call_count} calls"
    return ""


def _describe(step: Step, previous: Step | None, number: int, timed: int) -> str:
    if step.mode == "timed":
        return f"timed call {timed}"
    if step.mode == "check-new":
        return f"call {number} (new input buffers)"
    if previous is not None and previous.value_set == step.value_set:
        return f"call {number} (same inputs again)"
    return f"call {number} (input buffers refilled in place with new values)"


def _malformed(value: Any) -> bool:
    if type(value) is not dict or type(value.get("structure")) is not str:
        return True
    outputs = value.get("outputs")
    return type(outputs) is not list or not all(
        type(o) is list and len(o) == 2 and type(o[0]) is list and type(o[1]) is str
        for o in outputs)


class _Judge:
    def __init__(self, script: Script, cand: SandboxResult, ref: SandboxResult,
                 rules: Rules) -> None:
        self.script, self.cand, self.ref, self.rules = script, cand, ref, rules
        self.verdict = Verdict()

    def fail(self, reason: str, detail: str = "") -> Verdict:
        self.verdict.reason, self.verdict.detail = reason, detail
        return self.verdict

    def call(self, index: int) -> tuple[CallOutcome | None, CallOutcome]:
        cand = self.cand.calls[index] if index < len(self.cand.calls) else None
        return cand, self.ref.calls[index]

    def run(self) -> Verdict:
        for shape in self.script.shapes:
            failure = self.shape(shape)
            if failure:
                return self.fail(*failure)
        return self.verdict

    def shape(self, shape: ShapeScript) -> tuple[str, str] | None:
        label, rules = shape.label, self.rules
        load, _ = self.call(shape.load_at)
        if load is None or not load.ok:
            error = load.error if load is not None else "no answer"
            return (f"could not import or build {rules.class_name} ({label}): {_first(error)}",
                    error)
        previous: tuple[Step, list[Any]] | None = None
        last_step: Step | None = None
        launched = False
        timed = 0
        times, ref_times = [], []
        for number, step in enumerate(shape.steps, start=1):
            timed += step.mode == "timed"
            what = f"{label}: " + _describe(step, last_step, number, timed)
            last_step = step
            cand, ref = self.call(step.forward_at)
            if cand is None or not cand.ok:
                error = cand.error if cand is not None else "no answer"
                return f"{what}: {rules.class_name}.forward raised {_first(error)}", error
            if _malformed(cand.value):
                return f"{what}: the harness returned a malformed answer", ""
            self.verdict.output_specs.setdefault(label, ref.value["outputs"])
            problem = self.structure(cand.value, ref.value)
            if problem:
                return f"{what}: {problem}", ""
            if step.inspect_at >= 0:
                inspected, launched = self.inspect(step, previous, launched)
                if isinstance(inspected, str):
                    return f"{what}: {inspected}", ""
                previous = (step, inspected)
                self.verdict.inspected_calls += 1
            else:
                previous = None
            problem = self.sums(step, cand.value, ref.value)
            if problem:
                return (f"{what}: wrong values: {problem}; forward must compute the same "
                        "thing on every call"), ""
            self.verdict.checked_calls += 1
            if step.mode == "timed" and not step.warmup:
                times.append(cand.times_s[0])
                ref_times.append(ref.times_s[0])
        self.verdict.value_sets += len({s.value_set for s in shape.steps})
        checked_in_full = sum(s.inspect_at >= 0 for s in shape.steps)
        self.verdict.lines.append(
            f"shape {label}: {len(shape.steps)} calls correct "
            f"({checked_in_full} checked element by element, all by keyed sums; "
            f"atol={rules.atol:g} x rms of the reference, rtol={rules.rtol:g})")
        self.verdict.times[label], self.verdict.reference_times[label] = times, ref_times
        return None

    @staticmethod
    def structure(got: dict[str, Any], want: dict[str, Any]) -> str:
        outputs, expected = got["outputs"], want["outputs"]
        if got["structure"].startswith("other:") or len(outputs) != len(expected):
            shown = "tensor" if len(expected) == 1 else f"tuple:{len(expected)}"
            return (f"forward returned {got['structure'].removeprefix('other:')} with "
                    f"{len(outputs)} tensors; expected {shown}")
        for k, ((shape, dtype), (want_shape, want_dtype)) in enumerate(zip(outputs, expected)):
            name = "output" if len(expected) == 1 else f"output {k}"
            if dtype != want_dtype:
                return f"wrong dtype: {name} is {dtype}, expected {want_dtype}"
            if shape != want_shape:
                return f"wrong shape: {name} is {shape}, expected {want_shape}"
        return ""

    def inspect(self, step: Step, previous: tuple[Step, list[Any]] | None,
                launched: bool) -> tuple[list[Any] | str, bool]:
        rules = self.rules
        cand, ref = self.call(step.inspect_at)
        if cand is None or not cand.ok:
            return f"inspecting the output failed: {_first(cand.error if cand else '')}", launched
        got, want = cand.value, ref.value
        if type(got) is not dict or type(got.get("outputs")) is not list \
                or len(got["outputs"]) != len(want["outputs"]):
            return "the harness returned a malformed inspection", launched
        aliases = got.get("aliases")
        if aliases:
            pair = aliases[0] if type(aliases) is list else None
            if type(pair) is not list or len(pair) != 2 or not all(type(n) is int for n in pair):
                return "the harness returned a malformed inspection", launched
            return (f"output {pair[0]} shares memory with input {pair[1]}; return a new tensor, "
                    "not an input or a view of one"), launched
        inputs, ops = got.get("inputs"), got.get("aten_ops", [])
        if type(inputs) is not list or len(inputs) != len(want["inputs"]) or type(ops) is not list:
            return "the harness returned a malformed inspection", launched
        for j, (after, sent) in enumerate(zip(inputs, want["inputs"])):
            if after != sent:
                return (f"forward modified input {j} in place; inputs must be left unchanged",
                        launched)
        launches = got.get("launches", 0)
        if rules.require_triton and (type(launches) is not int or launches < 1):
            return ("forward launched no Triton kernel on this call, though an earlier call did "
                    "(results replayed from a cache?)" if launched
                    else "forward launched no Triton kernel"), launched
        launched = launched or (type(launches) is int and launches > 0)
        ops = {o for o in ops if type(o) is str}
        banned = sorted(ops & rules.forbidden_ops)
        if banned:
            return (f"forward ran the reference op aten.{banned[0]} in PyTorch; implement it "
                    "in the kernel"), launched
        if rules.require_triton and ops - rules.allowed_ops:
            extra = ", ".join(f"aten.{o}" for o in sorted(ops - rules.allowed_ops))
            return (f"forward computes with PyTorch ops ({extra}) outside Triton kernels; only "
                    "allocation/view/copy ops are allowed there"), launched
        return self.values(step, previous, got["outputs"], want["outputs"]), launched

    def values(self, step: Step, previous: tuple[Step, list[Any]] | None, got: list[Any],
               want: list[Any]) -> list[Any] | str:
        rules, arrays = self.rules, []
        for k, (g, w) in enumerate(zip(got, want)):
            sampled = isinstance(w, dict)
            try:
                arr, ref = as_array(g), as_array(w)
            except (TypeError, ValueError):
                return "the harness returned a malformed output"
            if arr.dtype.kind not in "biuf":
                return "the harness returned a malformed output"
            if arr.shape != ref.shape or isinstance(g, dict) != sampled:
                return "the inspected output does not match the reported shape"
            failure, max_abs, max_rel = compare_values(arr, ref, rules.atol, rules.rtol,
                                                       rules.min_correlation, sampled)
            self.verdict.max_abs_err = max(self.verdict.max_abs_err, max_abs)
            self.verdict.max_rel_err = max(self.verdict.max_rel_err, max_rel)
            last = previous[1][k] if previous is not None and k < len(previous[1]) else None
            if failure:
                if (step.mode == "check" and previous is not None and last is not None
                        and previous[0].value_set != step.value_set and same_bits(arr, last)):
                    return ("after the input buffers were refilled in place with new values, "
                            "forward returned the previous call's output (results cached by "
                            "buffer address?)")
                return f"wrong values: {failure}"
            same_inputs = previous is not None and previous[0].value_set == step.value_set
            if (same_inputs and rules.deterministic and last is not None
                    and not same_bits(arr, last)):
                diff = abs(arr.astype(float) - last.astype(float))
                return (f"nondeterministic: two calls on identical inputs gave different outputs "
                        f"(max difference {float(diff.max()):.3g}); results must be bitwise "
                        "identical")
            arrays.append(arr)
        return arrays

    def sums(self, step: Step, got: dict[str, Any], want: dict[str, Any]) -> str:
        rules = self.rules
        numels = [_numel(shape) for shape, _ in want["outputs"]]
        for name, cand_sums, ref_sums in self._sum_pairs(step, got, want):
            if type(cand_sums) is not list or len(cand_sums) != len(numels):
                return f"the harness returned malformed sums ({name})"
            for k, (g, w, n) in enumerate(zip(cand_sums, ref_sums, numels)):
                problem = mismatch(g, w, n, rules.atol, rules.rtol)
                if problem:
                    which = "output" if len(numels) == 1 else f"output {k}"
                    return f"{which}: {problem} ({name})"
        return ""

    def _sum_pairs(self, step: Step, got: dict[str, Any], want: dict[str, Any]
                   ) -> list[tuple[str, Any, Any]]:
        pairs = [("sums under the call's own key", got.get("sums"), want["sums"])]
        cand, ref = self.call(step.sums_at)
        if cand is not None and cand.ok:
            is_forward = type(cand.value) is dict and "previous" in cand.value
            value = cand.value.get("previous") if is_forward else cand.value
            expected = ref.value["previous"] if isinstance(ref.value, dict) else ref.value
            pairs.append(("sums under a key sent after the output was returned", value,
                          expected))
        return pairs


def _numel(shape: list[int]) -> int:
    count = 1
    for n in shape:
        count *= int(n)
    return count


def judge(script: Script, cand: SandboxResult, ref: SandboxResult, rules: Rules) -> Verdict:
    """Compare the candidate's answers with the reference's (see the module docstring)."""
    return _Judge(script, cand, ref, rules).run()
