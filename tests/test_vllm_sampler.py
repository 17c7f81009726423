"""The vLLM sampler's glue (``--sampler vllm``), on a CPU: which sampler a run gets, the ``SamplingParams``
built from the run's budgets and end tokens, records decoded as the HF sampler decodes them, and one
engine per run with one ``LoRARequest`` per adapter. vLLM itself needs a GPU: a stand-in module with
vLLM's offline-inference API (``LLM``, ``SamplingParams``, ``vllm.lora.request.LoRARequest``) records
the calls; ``benchmarks/gpu_check.py`` runs the real engine where a GPU is at hand."""

from __future__ import annotations

import sys
import types

import pytest

from itdeploy_lite.backends.hf import HFBackend
from itdeploy_lite.backends.vllm_sampler import VLLMPolicy, choose_sampler, completion_record, sampling_params
from itdeploy_lite.config import RunConfig
from itdeploy_lite.llm.errors import LLMSetupError
from llm_tiny import build_tiny_llama


def test_auto_is_vllm_only_for_an_llm_on_a_gpu_with_vllm_installed():
    assert choose_sampler("auto", "llm", "cuda", vllm_installed=True) == "vllm"
    assert choose_sampler("auto", "llm", "cuda", vllm_installed=False) == "hf"
    assert choose_sampler("auto", "llm", "cpu", vllm_installed=True) == "hf"
    assert choose_sampler("auto", "embedded", "cuda", vllm_installed=True) == "hf"
    assert choose_sampler("hf", "llm", "cuda", vllm_installed=True) == "hf"


@pytest.mark.parametrize("kind, device, installed, says", [
    ("llm", "cpu", True, "needs a CUDA GPU"),
    ("llm", "cuda", False, "pip install -e '.[vllm]'"),
    ("embedded", "cuda", True, "embedded planner uses --sampler hf"),
])
def test_vllm_where_it_cannot_run_says_what_to_change(kind, device, installed, says):
    with pytest.raises(LLMSetupError, match=says.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        choose_sampler("vllm", kind, device, vllm_installed=installed)
    with pytest.raises(ValueError, match="unknown sampler 'fast'"):
        choose_sampler("fast", kind, device)


def test_sampling_params_carry_the_budgets_end_tokens_and_a_seed_per_prompt():
    params = sampling_params([40, 7], k=8, temperature=0.6, top_p=0.95, top_k=20, seed=100, end_ids=[151645, 151643])
    assert [p["max_tokens"] for p in params] == [40, 7] and {p["n"] for p in params} == {8}
    assert [p["seed"] for p in params] == [100, 101]
    assert params[0]["stop_token_ids"] == [151645, 151643] and params[0]["skip_special_tokens"] is False
    assert (params[0]["top_p"], params[0]["top_k"], params[0]["temperature"]) == (0.95, 20, 0.6)
    off = sampling_params([5], k=1, temperature=0.6, top_p=1.0, top_k=0, seed=0, end_ids=[2])[0]
    assert off["top_k"] == -1  # vLLM's "no top-k"
    greedy = sampling_params([5], k=1, temperature=0.0, top_p=0.95, top_k=20, seed=0, end_ids=[2])[0]
    assert (greedy["temperature"], greedy["top_p"], greedy["top_k"]) == (0.0, 1.0, -1)
    with pytest.raises(ValueError, match="k and every budget must be >= 1"):
        sampling_params([0], k=1, temperature=0.6, top_p=1.0, top_k=0, seed=0, end_ids=[2])


class _Tok:
    def decode(self, ids, skip_special_tokens=False):
        assert skip_special_tokens is False
        return " ".join(map(str, ids))


def test_a_completion_ends_at_its_first_end_token_and_at_its_budget():
    assert completion_record([5, 6, 2, 7, 2], budget=10, end_ids=[2], tokenizer=_Tok()) == \
        {"completion": "5 6 2", "n_tokens": 3, "ended": True}
    assert completion_record([5, 6, 7, 8], budget=3, end_ids=[2], tokenizer=_Tok()) == \
        {"completion": "5 6 7", "n_tokens": 3, "ended": False}
    assert completion_record([5, 9], budget=3, end_ids=[2, 9], tokenizer=_Tok())["ended"] is True  # a second end id


@pytest.fixture
def fake_vllm(monkeypatch):
    """A stand-in ``vllm`` with the offline-inference API; ``calls`` records what the sampler asked for."""
    calls = {"llm": [], "generate": []}

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class LLM:
        def __init__(self, **kwargs):
            calls["llm"].append(kwargs)

        def generate(self, prompts, sampling_params=None, lora_request=None, use_tqdm=True):
            calls["generate"].append({"prompts": prompts, "params": [p.kwargs for p in sampling_params],
                                      "lora": lora_request})
            end = sampling_params[0].kwargs["stop_token_ids"][0]
            return [types.SimpleNamespace(outputs=[
                types.SimpleNamespace(token_ids=[10 + i, 20 + j] + ([end, 99] if j == 0 else [30, 31, 32]))
                for j in range(p.kwargs["n"])]) for i, p in enumerate(sampling_params)]

    class LoRARequest:
        def __init__(self, name, lora_id, path):
            self.name, self.id, self.path = name, lora_id, path

    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = LLM, SamplingParams
    lora, request = types.ModuleType("vllm.lora"), types.ModuleType("vllm.lora.request")
    request.LoRARequest = LoRARequest
    for name, module in {"vllm": vllm, "vllm.lora": lora, "vllm.lora.request": request}.items():
        monkeypatch.setitem(sys.modules, name, module)
    return calls


def test_one_engine_per_run_and_one_lora_request_per_adapter(fake_vllm, tmp_path):
    base = build_tiny_llama(tmp_path / "llm")
    backend = HFBackend(device="cpu")
    backend.sampler, backend.max_seq_length = "vllm", 1536
    backend.vllm_options = {"max_lora_rank": 16, "tensor_parallel_size": 2, "gpu_memory_utilization": 0.4}
    adapters = [tmp_path / "gen_01/adapter", tmp_path / "gen_02/adapter"]

    model, tokenizer = backend.sampling_model(base)
    assert isinstance(model, VLLMPolicy) and model.adapter is None
    out = backend.generate(model, tokenizer, ["p0", "p1"], [5, 2], k=2, temperature=0.6, seed=7)
    end = tokenizer.eos_token_id
    assert out[0][0] == completion_record([10, 20, end], 5, [end], tokenizer)  # cut after its end token
    assert out[0][0]["ended"] and not out[0][1]["ended"] and out[1][1]["n_tokens"] == 2  # cut at the budget
    for adapter in adapters + adapters[:1]:
        model, tokenizer = backend.sampling_model(base, adapter)
        backend.generate(model, tokenizer, ["p0"], [4], k=1, temperature=0.6, seed=0)

    assert len(fake_vllm["llm"]) == 1  # built once, kept for the run
    llm = fake_vllm["llm"][0]
    assert (llm["model"], llm["enable_lora"], llm["max_lora_rank"], llm["max_model_len"]) == (str(base), True, 16, 1536)
    assert (llm["tensor_parallel_size"], llm["gpu_memory_utilization"]) == (2, 0.4) and "quantization" not in llm
    requests = [call["lora"] for call in fake_vllm["generate"]]
    assert requests[0] is None
    assert [r.path for r in requests[1:]] == [str(a.resolve()) for a in adapters + adapters[:1]]
    assert [r.id for r in requests[1:]] == [1, 2, 1]  # the same adapter folder keeps its id
    assert fake_vllm["generate"][0]["params"][1]["max_tokens"] == 2


def test_a_run_asking_vllm_on_a_cpu_stops_before_writing(tmp_path):
    from itdeploy_lite.loop import run

    base = build_tiny_llama(tmp_path / "llm")
    with pytest.raises(LLMSetupError, match="needs a CUDA GPU"):
        run(RunConfig(model=str(base), sampler="vllm", out=str(tmp_path / "run"), generations=0, progress=False))
    assert not (tmp_path / "run").exists()


def test_gpu_settings_are_checked():
    with pytest.raises(ValueError, match="--gpus must be >= 1"):
        RunConfig(gpus=0).check()
    with pytest.raises(ValueError, match=r"--vllm-memory must be in \(0, 1\)"):
        RunConfig(vllm_memory=1.0).check()
