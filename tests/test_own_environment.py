"""Bring your own environment: a domain written inside this test, registered with
`fbjax.envs.register`, goes through collect -> train -> evaluate -> report by name."""

import dataclasses
import json
import os
import subprocess
import sys

import jax.numpy as jnp
import mujoco
import numpy as np
import pytest
from mujoco import mjx

import fbjax.envs as envs
from fbjax.envs.base import Domain

pytestmark = pytest.mark.slow  # the whole pipeline on a registered domain

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "experiments", "configs", "tiny_point_mass.py")

# A bead on a 1-D rail: one slide joint, one motor. Written here, not shipped by fbjax.
BEAD_XML = """
<mujoco model="bead">
  <option timestep="0.02"/>
  <worldbody>
    <body name="bead">
      <joint name="x" type="slide" axis="1 0 0" limited="true" range="-1 1" damping="1"/>
      <geom name="bead" type="sphere" size=".02" mass=".1" contype="0" conaffinity="0"/>
    </body>
  </worldbody>
  <actuator><motor joint="x" gear=".5" ctrlrange="-1 1" ctrllimited="true"/></actuator>
</mujoco>
"""


def make_bead() -> Domain:
    mj_model = mujoco.MjModel.from_xml_string(BEAD_XML)
    return Domain(
        name="bead_test", mj_model=mj_model, model=mjx.put_model(mj_model, impl="jax"),
        n_substeps=1, observe=lambda d: jnp.concatenate([d.qpos, d.qvel]),
        tasks={"right": lambda d, a: jnp.exp(-((d.qpos[0] - 0.5) / 0.1) ** 2),
               "left": lambda d, a: jnp.exp(-((d.qpos[0] + 0.5) / 0.1) ** 2)},
        episode_length=100)


def test_a_registered_domain_runs_the_whole_pipeline(tmp_path, monkeypatch):
    from fbjax.pipeline.config import experiment_config
    from fbjax.pipeline.mjx import collect_data, evaluate_all, train_all
    from fbjax.pipeline.mjx_report import report

    monkeypatch.setattr(envs, "_FACTORIES", dict(envs._FACTORIES))  # registrations end here
    envs.register("bead_test", make_bead)
    config = experiment_config({
        "domain": "bead_test", "workdir": str(tmp_path), "seeds": [0],
        "collect": {"policy": "noise", "num_envs": 4, "num_episodes": 2},
        "fb": {"z_dim": 8, "backward_hidden": 16, "forward_hidden": 16, "actor_hidden": 16,
               "batch_size": 32},
        "train": {"num_steps": 20, "steps_per_call": 10, "save_every": 10},
        "eval": {"methods": "fb,random", "num_episodes": 2, "inference_samples": 100,
                 "num_starts": 4, "bootstrap_reps": 50}})
    collect_data(config)
    train_all(config)
    rows = evaluate_all(config)
    assert {(r.task, r.method) for r in rows} == {
        (t, m) for t in ("right", "left") for m in ("fb", "random")}
    with open(os.path.join(tmp_path, "dataset", "manifest.json")) as f:
        assert json.load(f)["env"] == "bead_test"
    assert "# bead_test: zero-shot FB" in report(config)

    # A prompt of the user's own, registered by name: rolled out, estimated off policy and
    # tested against fb, leaving every other method's episodes as they were.
    from fbjax.eval import methods
    monkeypatch.setattr(methods, "_REGISTRY", dict(methods._REGISTRY))
    methods.register_prompt("bead_swapped", lambda c: c.latents["fb"][::-1],
                            about="each task prompted with the other's z_r")
    swapped = dataclasses.replace(config, eval=dataclasses.replace(
        config.eval, methods="fb,random,bead_swapped"))
    more = evaluate_all(swapped)
    others = [r for r in more if r.method != "bead_swapped"]
    assert [(r.seed, r.task, r.method, r.fields) for r in others] \
        == [(r.seed, r.task, r.method, r.fields) for r in rows]
    # The same episodes in a larger batch of prompts: equal up to float32 summation order over
    # an episode's 100 steps (n * eps = 100 * 6e-8 = 6e-6).
    for kind in ("returns", "discounted"):
        np.testing.assert_allclose([getattr(r, kind) for r in others],
                                   [getattr(r, kind) for r in rows], rtol=1e-5, atol=1e-6)
    mine = {r.task: r for r in more if r.method == "bead_swapped"}
    assert set(mine) == {"right", "left"} and all("ope_ratio" in r.fields for r in mine.values())
    assert "bead_swapped − fb" in report(swapped)

    # A reward of the user's own, of observations, on the same data and the same FB model: a
    # with_tasks copy reads bead_test's dataset, and FB is prompted and scored on the new task.
    envs.register("bead_plus", lambda: envs.with_tasks(
        envs.make("bead_test"), {"centre": lambda obs, a: jnp.exp(-(obs[0] / 0.1) ** 2)},
        name="bead_plus"))
    plus = dataclasses.replace(config, domain="bead_plus",
                               eval=dataclasses.replace(config.eval, tasks="centre"))
    train_all(plus)  # the same run: resumed at its last step, nothing trained
    rows = evaluate_all(plus)
    assert {(r.task, r.method) for r in rows} == {("centre", "fb"), ("centre", "random")}
    assert "centre" in report(plus)


def test_the_binaries_import_a_users_module_that_registers_a_domain(tmp_path):
    """`--import_module` makes a domain registered outside fbjax nameable from the command line;
    without it the domain is refused in one line."""
    (tmp_path / "bead_plugin.py").write_text(
        "import fbjax.envs as envs\nfrom tests.test_own_environment import make_bead\n"
        "envs.register('bead_test', make_bead)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    cmd = [sys.executable, "-m", "experiments.collect", f"--config={TINY}",
           "--config.domain=bead_test", f"--config.workdir={tmp_path / 'run'}",
           "--config.collect.policy=noise", "--config.collect.num_envs=4",
           "--config.collect.num_episodes=1", "--config.eval.tasks=right"]
    unknown = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert unknown.returncode == 1 and "bead_test" in unknown.stderr, unknown.stderr[-2000:]
    assert "Traceback" not in unknown.stderr
    done = subprocess.run(cmd + ["--import_module=bead_plugin"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "run" / "dataset" / "manifest.json") as f:
        manifest = json.load(f)
    assert manifest["env"] == "bead_test" and manifest["tasks"] == ["right", "left"]


def test_a_playground_environment_runs_the_whole_pipeline(tmp_path, monkeypatch):
    """A MuJoCo Playground env (CartpoleBalance), adapted with `envs.from_mjx_env` and a reward
    of observations written here, goes through collect -> train -> evaluate -> report by name."""
    from mujoco_playground import dm_control_suite

    from fbjax.pipeline.config import experiment_config
    from fbjax.pipeline.mjx import collect_data, evaluate_all, train_all
    from fbjax.pipeline.mjx_report import report

    monkeypatch.setattr(envs, "_FACTORIES", dict(envs._FACTORIES))
    env = dm_control_suite.load("CartpoleBalance", config_overrides={"impl": "jax"})
    envs.register("cartpole_pg", lambda: envs.from_mjx_env(
        "cartpole_pg", env, {"upright": lambda obs, a: (jnp.cos(obs[1]) + 1.0) / 2.0}))
    config = experiment_config({
        "domain": "cartpole_pg", "workdir": str(tmp_path), "seeds": [0],
        "collect": {"policy": "noise", "num_envs": 4, "num_episodes": 1, "episode_length": 50},
        "fb": {"z_dim": 8, "backward_hidden": 16, "forward_hidden": 16, "actor_hidden": 16,
               "batch_size": 32},
        "train": {"num_steps": 20, "steps_per_call": 10, "save_every": 10},
        "eval": {"methods": "fb,random", "num_episodes": 2, "episode_length": 50,
                 "inference_samples": 100, "num_starts": 4, "bootstrap_reps": 50}})
    collect_data(config)
    train_all(config)
    rows = evaluate_all(config)
    assert {(r.task, r.method) for r in rows} == {("upright", "fb"), ("upright", "random")}
    # The balance task starts near upright: 50 steps earn most of the 50 available.
    assert all(sum(r.returns) / len(r.returns) > 10 for r in rows)
    assert "# cartpole_pg: zero-shot FB" in report(config)

    # The model as an inference checkpoint, prompted from another workdir on the same data:
    # nothing trained, and the same rows as evaluating the run it came from.
    from fbjax.train.export import export_fb
    export_fb(str(tmp_path / "fb" / "seed_0"), str(tmp_path / "models" / "seed_0"))
    (tmp_path / "other").mkdir()
    os.symlink(tmp_path / "dataset", tmp_path / "other" / "dataset")
    loaded = dataclasses.replace(config, workdir=str(tmp_path / "other"),
                                 fb_from=str(tmp_path / "models"))
    assert train_all(loaded) == {} and not os.path.exists(tmp_path / "other" / "fb")
    assert (json.dumps([r.to_json() for r in evaluate_all(loaded)])
            == json.dumps([r.to_json() for r in rows]))
