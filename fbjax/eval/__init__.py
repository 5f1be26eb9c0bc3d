"""Evaluation: the vectorised evaluator, zero-shot prompting with its off-policy estimates, the
TD3 oracle, the methods by name and the report."""

from fbjax.eval.evaluator import (
    actor_policy,
    fb_policy,
    make_evaluator,
    random_policy,
    summarize,
)
from fbjax.eval.methods import Method, PromptContext, register_prompt
from fbjax.eval.zero_shot import (
    InferenceData,
    infer_latents,
    inference_data,
    off_policy_estimates,
)

__all__ = [
    "InferenceData",
    "Method",
    "PromptContext",
    "actor_policy",
    "fb_policy",
    "infer_latents",
    "inference_data",
    "make_evaluator",
    "off_policy_estimates",
    "random_policy",
    "register_prompt",
    "summarize",
]
