"""Model backends. The embedded planner: a tiny Llama LM and a word-level tokenizer over the PDDL names.

Typical use::

    from itdeploy_lite.models import load_embedded
    model, tokenizer = load_embedded("blocksworld")       # generation 0, shipped under data/models/
"""

from itdeploy_lite.models.embedded import (
    ModelConfig,
    build_model,
    count_parameters,
    embedded_dir,
    load_embedded,
    model_config_of,
    plan_trace,
    save_embedded,
)
from itdeploy_lite.models.tokenizer import build_tokenizer, vocabulary

__all__ = [
    "ModelConfig",
    "build_model",
    "build_tokenizer",
    "count_parameters",
    "embedded_dir",
    "load_embedded",
    "model_config_of",
    "plan_trace",
    "save_embedded",
    "vocabulary",
]
