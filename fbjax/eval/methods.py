"""The evaluation's methods by name: what each one is, and for FB's prompts, the function that
makes its latents (SPEC section 7).

Every method is a `Method` in one registry. Its kind says how the MJX evaluation runs it:

    "prompt"  a latent z per task from `prompt(context)`, rolled out by FB's actor, with the
              free off-policy estimates of that z (fb, rwr, fb_goal, and any you register)
    "zol"     ZOL's arms, made from the grid of ZOL searches started at fb's z (zol_published,
              zol_selected) and the matched-angle control that turns fb's z as far (zol_control)
    "oracle"  a reference that normalises a task's returns (the scripted navigator, TD3)
    "random"  uniform random actions

"prompt" and "zol" methods are FB's family: the report tests each against `fb` over seeds.

Add a prompt of your own with `register_prompt`; name it in `--config.eval.methods` (with
`--import_module=YOUR_MODULE` on the command line, so the binary registers it too):

    def mean_prompt(context):
        z = context.latents["fb"].mean(axis=0)          # one z for every task
        return np.broadcast_to(z, context.latents["fb"].shape)

    register_prompt("fb_mean", mean_prompt, about="the tasks' mean reward prompt")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import numpy as np

from fbjax.eval.zero_shot import InferenceData
from fbjax.fb.inference import goal_inference
from fbjax.fb.learner import FBAgent
from fbjax.types import Params

KINDS = ("prompt", "zol", "oracle", "random")
# The reference that normalises a task's returns: the first of these evaluated on it. The scripted
# navigator (domains with one: fbjax.envs.navigator_goals) is not learned from the data.
ORACLES = ("navigator", "td3")
BASELINE = "fb"  # every FB-family method is compared with it
CONTROL = "zol_control"
ZOL_ARMS = ("zol_published", "zol_selected")


@dataclasses.dataclass(frozen=True)
class PromptContext:
    """What a prompt function sees for one seed, its tasks in the evaluated order (T of them).

    `latents` holds what reward inference computed in one program: "fb", z_r (T, d), and "rwr"
    (T, d) when rwr is evaluated. `goals` is each task's goal (T, goal) on domains with goals
    (the maze), else None. `data` is the `InferenceData` ZOL and the off-policy estimates read."""

    agent: FBAgent
    params: Params
    data: InferenceData
    latents: dict[str, np.ndarray]
    tasks: tuple[str, ...]
    goals: np.ndarray | None
    key: jax.Array


@dataclasses.dataclass(frozen=True)
class Method:
    name: str
    kind: str
    about: str
    prompt: Callable[[PromptContext], np.ndarray] | None = None  # kind "prompt" only
    default: bool = True  # in EvalConfig's default methods
    ablation: bool = False  # reported beside the headline comparison, not in it
    needs_goals: bool = False  # runs only on domains whose tasks have goals

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Method {self.name!r}: kind must be one of {KINDS}, got "
                             f"{self.kind!r}")
        if (self.kind == "prompt") != (self.prompt is not None):
            raise ValueError(f"Method {self.name!r}: a prompt function is given exactly when "
                             f"the kind is 'prompt' (kind {self.kind!r})")


def _fb(context: PromptContext) -> np.ndarray:
    return context.latents["fb"]


def _rwr(context: PromptContext) -> np.ndarray:
    return context.latents["rwr"]


def _goal(context: PromptContext) -> np.ndarray:
    """z = B(goal) for each task's goal (x, y): a point of B's goal space when B is on (x, y),
    else the observation at the goal at rest (x, y, 0, ...)."""
    nets, goals = context.agent.networks, np.asarray(context.goals, np.float32)
    if nets.goal_dim != goals.shape[-1]:
        goals = np.pad(goals, ((0, 0), (0, nets.obs_dim - goals.shape[-1])))
    return np.asarray(goal_inference(nets, context.params.backward, goals))


_BUILT_IN = (
    Method("fb", "prompt", "reward inference: z_r = E[r(s') B(s')]", _fb),
    Method("zol_published", "zol", "ZOL latent search at the authors' published setting"),
    Method("zol_selected", "zol", "ZOL at the grid setting chosen on other tasks or "
           "development seeds"),
    Method("zol_control", "zol", "z_r turned at random by zol_published's angle"),
    Method("rwr", "prompt", "ratio-weighted regression of the reward on B", _rwr,
           ablation=True),
    Method("fb_goal", "prompt", "the goal prompt z = B(goal)", _goal, default=False,
           needs_goals=True),
    Method("td3", "oracle", "TD3 trained on the task's reward, offline"),
    Method("navigator", "oracle", "the scripted navigator to the task's goal", default=False,
           needs_goals=True),
    Method("random", "random", "uniform random actions"),
)
_REGISTRY: dict[str, Method] = {m.name: m for m in _BUILT_IN}


def register_prompt(name: str, prompt: Callable[[PromptContext], np.ndarray], *,
                    about: str = "", ablation: bool = False) -> Method:
    """Registers an FB prompt: `prompt(context)` returns (T, d) latents, one per task of
    `context.tasks`; the evaluation rolls them out with FB's actor, estimates their value off
    policy and reports them with FB's family (tested against fb). Not a default method: name it
    in eval.methods."""
    if not name.isidentifier() or name.startswith("zol_grid"):
        raise ValueError(f"register_prompt: {name!r} must be a Python identifier and must not "
                         "start with 'zol_grid' (the ZOL grid's rows)")
    if name in _REGISTRY:
        raise ValueError(f"register_prompt: {name!r} is already a method ({_REGISTRY[name].about})"
                         "; choose another name")
    method = Method(name, "prompt", about or name, prompt, default=False, ablation=ablation)
    _REGISTRY[name] = method
    return method


def unregister(name: str) -> None:
    """Removes a method registered with `register_prompt` (built-in methods stay)."""
    if name in {m.name for m in _BUILT_IN}:
        raise ValueError(f"unregister: {name!r} is built in")
    _REGISTRY.pop(name, None)


def get(name: str) -> Method:
    if name not in _REGISTRY:
        raise ValueError(f"unknown method {name!r}; the methods are {names()} (register a "
                         "prompt of your own with fbjax.eval.methods.register_prompt)")
    return _REGISTRY[name]


def names() -> tuple[str, ...]:
    """Every method, FB's family first (built-in, then registered), in the report's order."""
    family = [m.name for m in _REGISTRY.values() if m.kind in ("prompt", "zol")]
    return (*family, *(m.name for m in _REGISTRY.values() if m.kind not in ("prompt", "zol")))


def ordered(present) -> list[str]:
    """The methods of `present` in the report's order: FB's family (built-in, registered, then
    prompts registered only where they were evaluated, in `present`'s order), then the oracles
    and random. The ZOL grid's rows are left out: the arms they feed are reported instead."""
    known = names()
    family = [m for m in known if is_fb_family(m)]
    elsewhere = [m for m in dict.fromkeys(present) if m not in known and not is_grid(m)]
    order = [*family, *elsewhere, *(m for m in known if not is_fb_family(m))]
    return [m for m in order if m in set(present)]


def default_methods() -> tuple[str, ...]:
    return tuple(m for m in names() if _REGISTRY[m].default)


def ablations() -> tuple[str, ...]:
    return tuple(m for m in names() if _REGISTRY[m].ablation)


def prompts(chosen) -> list[Method]:
    """The chosen methods of kind "prompt", in the registry's order."""
    return [_REGISTRY[m] for m in names() if m in chosen and _REGISTRY[m].kind == "prompt"]


def is_fb_family(name: str) -> bool:
    """FB's prompts and ZOL's arms. A name unknown here (a prompt registered in the process that
    evaluated, not in this one) is a prompt too: the evaluation runs nothing else by name."""
    method = _REGISTRY.get(name)
    return not is_grid(name) and (method is None or method.kind in ("prompt", "zol"))


def grid_name(g: int) -> str:
    """The rows of ZOL's grid setting g, from which zol_published and zol_selected are taken."""
    return f"zol_grid_{g}"


def is_grid(name: str) -> bool:
    return name.startswith("zol_grid_")
