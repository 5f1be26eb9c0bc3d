"""The method registry: a prompt registered by name is chosen by the config, rolled out in its
place after fb and ZOL's grid, and reported and tested with FB's family; bad registrations and
bad prompts are refused naming the method."""

import numpy as np
import pytest

from fbjax.eval import methods
from fbjax.eval.methods import PromptContext, register_prompt
from fbjax.eval.report import markdown_report, summarize
from fbjax.eval.results import Row
from fbjax.pipeline.config import EvalConfig


@pytest.fixture
def registered():
    """`fb_scaled` (twice z_r) registered for one test only."""
    register_prompt("fb_scaled", lambda c: 2 * c.latents["fb"], about="twice z_r")
    yield "fb_scaled"
    methods.unregister("fb_scaled")


def test_the_built_in_methods_keep_the_reports_order_and_defaults():
    assert methods.names() == ("fb", "zol_published", "zol_selected", "zol_control", "rwr",
                               "fb_goal", "td3", "navigator", "random")
    assert EvalConfig().chosen == ("fb", "zol_published", "zol_selected", "zol_control", "rwr",
                                   "td3", "random")
    assert methods.ablations() == ("rwr",)
    assert [m.name for m in methods.prompts(("random", "fb_goal", "rwr", "fb"))] == [
        "fb", "rwr", "fb_goal"]


def test_a_registered_prompt_joins_fb_family_before_the_oracles(registered):
    assert methods.names().index(registered) == methods.names().index("fb_goal") + 1
    assert methods.is_fb_family(registered) and not methods.is_fb_family("td3")
    assert registered not in EvalConfig().chosen  # chosen by name, never by default
    assert EvalConfig(methods=f"fb,{registered}").chosen == ("fb", registered)


def test_bad_names_and_registrations_are_refused():
    with pytest.raises(ValueError, match=r"unknown \['fb_nowhere'\].*register_prompt"):
        EvalConfig(methods="fb,fb_nowhere")
    with pytest.raises(ValueError, match="names a method twice"):
        EvalConfig(methods="fb,random,fb")
    with pytest.raises(ValueError, match="already a method"):
        register_prompt("rwr", lambda c: c.latents["fb"])
    with pytest.raises(ValueError, match="must not start with 'zol_grid'"):
        register_prompt("zol_grid_9", lambda c: c.latents["fb"])
    with pytest.raises(ValueError, match="identifier"):
        register_prompt("my method", lambda c: c.latents["fb"])
    with pytest.raises(ValueError, match="built in"):
        methods.unregister("fb")
    with pytest.raises(ValueError, match="kind must be one of"):
        methods.Method("x", "heuristic", "x")
    with pytest.raises(ValueError, match="prompt function is given exactly"):
        methods.Method("x", "oracle", "x", prompt=lambda c: None)


def _context(z_r) -> PromptContext:
    return PromptContext(agent=None, params=None, data=None, latents={"fb": z_r},
                         tasks=("a", "b"), goals=None, key=None)


def test_prompts_roll_out_after_fb_and_the_grid_and_a_wrong_shape_names_the_method(registered):
    from fbjax.eval.zero_shot import Latents
    from fbjax.pipeline.mjx import _prompts

    z_r = np.arange(6, dtype=np.float32).reshape(2, 3)
    grid = np.stack([z_r + 1, z_r + 2])
    out = _prompts(_context(z_r), Latents(fb=z_r, grid=grid), ("fb", registered, "zol_selected"))
    assert list(out) == ["fb", "zol_grid_0", "zol_grid_1", registered]
    assert [g for _, g in out.values()] == [None, 0, 1, None]  # the grid setting, not parsed
    np.testing.assert_array_equal(out[registered][0], 2 * z_r)
    methods.unregister(registered)
    register_prompt(registered, lambda c: c.latents["fb"][0])  # one z, not one per task
    with pytest.raises(ValueError, match=r"method 'fb_scaled'.*shape \(3,\); expected \(2, 3\)"):
        _prompts(_context(z_r), Latents(fb=z_r), ("fb", registered))


def _rows(method):
    rows = []
    for seed in (0, 1, 2):
        base = np.array([10.0, 30.0, 50.0, 70.0]) + seed
        for name, returns in (("fb", base), (method, base + 5), ("td3", [200.0] * 4)):
            rows.append(Row(seed, "a", name, list(returns), list(np.asarray(returns) / 2)))
    return rows


@pytest.mark.parametrize("where", ["registered here", "registered only where it was evaluated"])
def test_a_prompts_rows_are_reported_and_tested_against_fb(where, registered):
    if where != "registered here":
        methods.unregister(registered)
    s = summarize(_rows(registered), reps=200)
    assert s.methods == ["fb", registered, "td3"]
    assert s.diffs[("a", registered)].diff.mean == pytest.approx(5.0)  # paired, over seeds
    text = markdown_report(s, "")
    assert f"| task | fb | {registered} | td3 |" in text and f"{registered} − fb" in text
