"""The evaluation's rollouts: one compiled evaluator per kind of policy, reused across seeds, and
the result rows they produce (used by `fbjax.pipeline.mjx.evaluate_all`)."""

import time

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.eval.evaluator import make_evaluator
from fbjax.eval.results import Row
from fbjax.eval.zero_shot import FEW_REWARDED, REWARDED_RULE, rewarded_in_sample


class Rollouts:
    """The compiled evaluators (one per kind of policy, reused across seeds) and the result rows
    they produce, one per (seed, task, method)."""

    def __init__(self, domain, task_ids: list[int], episodes: int, length: int | None,
                 discount: float):
        self.domain, self.episodes, self.length, self.discount = domain, episodes, length, discount
        self.task_ids = jnp.asarray(task_ids)  # the evaluated tasks, as the domain numbers them
        self.tasks = [domain.task_names[i] for i in task_ids]
        self.compiled, self.rows, self.fb_steps = {}, [], {}
        self.rewarded = {}  # seed -> {task: rewarded transitions in its inference sample}

    def run(self, kind, policy, shared, per_prompt, task_ids, key) -> dict[str, np.ndarray]:
        if kind not in self.compiled:
            self.compiled[kind] = make_evaluator(self.domain, policy, self.episodes, self.length,
                                                 self.discount)
        start = time.perf_counter()
        out = jax.tree.map(np.asarray, self.compiled[kind](shared, per_prompt, task_ids, key))
        print(f"[evaluate] {kind}: {len(task_ids)} prompts x {self.episodes} episodes in "
              f"{time.perf_counter() - start:.1f}s (compile included on first use)", flush=True)
        return out

    def count_rewarded(self, seed, rewards: np.ndarray, sample_rewards) -> None:
        """Each task's rewarded transitions in seed's inference sample (`rewarded_in_sample`),
        kept for results.json, with a warning for the tasks that have too few."""
        counts = self.rewarded[seed] = dict(zip(
            self.tasks, (int(n) for n in rewarded_in_sample(rewards, sample_rewards)),
            strict=True))
        few = {task: n for task, n in counts.items() if n < FEW_REWARDED}
        if few:
            print(f"[evaluate] seed {seed}: warning: reward inference's "
                  f"{np.shape(sample_rewards)[1]} samples hold few rewarded transitions "
                  f"({REWARDED_RULE}) for " + ", ".join(f"{task} ({n})" for task, n in few.items())
                  + "; their prompts say little about the task (raise eval.inference_samples, or "
                  "collect data that reaches it)", flush=True)

    def add(self, seed, method, out, offset=0, extra=None) -> None:
        returns, discounted = out["return"], out["discounted"]
        for t, task in enumerate(self.tasks):
            fields = {k: float(v[t]) for k, v in (extra or {}).items()}
            self.rows.append(Row(seed, task, method, returns[offset + t].tolist(),
                                 discounted[offset + t].tolist(), fields))
