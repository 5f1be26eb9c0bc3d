"""Evaluation: the vectorised evaluator, zero-shot prompting with its off-policy estimates, the
TD3 oracle and the report."""

from fbjax.eval.evaluator import (
    actor_policy,
    fb_policy,
    make_evaluator,
    random_policy,
    summarize,
)
from fbjax.eval.zero_shot import (
    FB_METHODS,
    METHODS,
    InferenceData,
    infer_latents,
    inference_data,
    off_policy_estimates,
)

__all__ = [
    "FB_METHODS",
    "METHODS",
    "InferenceData",
    "actor_policy",
    "fb_policy",
    "infer_latents",
    "inference_data",
    "make_evaluator",
    "off_policy_estimates",
    "random_policy",
    "summarize",
]
