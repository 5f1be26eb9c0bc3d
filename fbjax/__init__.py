"""fbjax: Forward-Backward behavioral foundation models in JAX.

The public API, name by name (what a notebook imports). Names are imported on first use, so
`import fbjax.fb` loads neither MuJoCo nor orbax.
"""

import importlib

from fbjax.version import __version__

# name -> (module, attribute); attribute None re-exports the module itself.
_EXPORTS = {
    "FBAgent": ("fbjax.fb", "FBAgent"),
    "FBConfig": ("fbjax.fb", "FBConfig"),
    "FBNetworks": ("fbjax.fb", "FBNetworks"),
    "FBParams": ("fbjax.fb", "FBParams"),
    "FBState": ("fbjax.fb", "FBState"),
    "act": ("fbjax.fb", "act"),
    "goal_inference": ("fbjax.fb", "goal_inference"),
    "reward_inference": ("fbjax.fb", "reward_inference"),
    "reward_inference_all": ("fbjax.fb", "reward_inference_all"),
    "project_z": ("fbjax.nets", "project_z"),
    "Labelled": ("fbjax.types", "Labelled"),
    "Transition": ("fbjax.types", "Transition"),
    "from_dict": ("fbjax.configs", "from_dict"),
    "Checkpointer": ("fbjax.train", "Checkpointer"),
    "TrainConfig": ("fbjax.train", "TrainConfig"),
    "FBRun": ("fbjax.train", "FBRun"),
    "load_fb": ("fbjax.train", "load_fb"),
    "export_fb": ("fbjax.train", "export_fb"),
    "load_export": ("fbjax.train", "load_export"),
    "read_config": ("fbjax.train", "read_config"),
    "load_dataset": ("fbjax.data.store", "load_dataset"),
    "from_arrays": ("fbjax.data.arrays", "from_arrays"),
    "observation_rewards": ("fbjax.data.arrays", "observation_rewards"),
    "relabel": ("fbjax.data.relabel", "relabel"),
    "register_prompt": ("fbjax.eval.methods", "register_prompt"),
    "PromptContext": ("fbjax.eval.methods", "PromptContext"),
    "agent": ("fbjax.agent", None),
    "baselines": ("fbjax.baselines", None),
    "data": ("fbjax.data", None),
    "dice": ("fbjax.dice", None),
    "envs": ("fbjax.envs", None),
    "eval": ("fbjax.eval", None),
    "fb": ("fbjax.fb", None),
    "pipeline": ("fbjax.pipeline", None),
    "tabular": ("fbjax.tabular", None),
    "train": ("fbjax.train", None),
    "zol": ("fbjax.zol", None),
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fbjax' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = importlib.import_module(module)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
