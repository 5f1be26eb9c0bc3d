"""The throughput benchmarks run and their JSON adds up (tiny sizes; the figures themselves are
measured by the scripts, never asserted here)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _lines(*args) -> list[dict]:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow  # a benchmark in a process of its own
def test_fb_seeds_measures_the_plain_baseline_first():
    rows = _lines("benchmarks/fb_seeds.py", "--batch=8", "--seeds=1,2", "--steps=2",
                  "--repeats=1")
    assert [(r["seeds"], r["seed_axis"]) for r in rows] == [(1, False), (1, True), (2, True)]
    for r in rows:
        assert r["metrics_finite"]
        # every seed of the program advances one update per program update (both rounded)
        assert abs(r["seed_updates_per_s"] - r["seeds"] * r["program_updates_per_s"]) <= \
            0.01 * r["seeds"]
        assert r["ratio_to_first"] == round(r["seed_updates_per_s"] /
                                            rows[0]["seed_updates_per_s"], 3)


@pytest.mark.slow  # a benchmark in a process of its own
def test_profile_flops_are_the_programs_math_and_recount_reproduces_them(tmp_path):
    (row,) = _lines("benchmarks/profile_update.py", "--batch=8", "--steps=2", "--repeats=1",
                    "--peak_tflops=1", f"--trace={tmp_path / 'trace'}")
    # The traced call's summary, per update: every op event has one kind, the busy time is at
    # most the span, and the update's matmuls (a dot in every F, B and actor layer) show up.
    summary = row["trace_summary_per_update"]
    kinds = summary["by_kind"]
    assert set(kinds) == {"matmul", "reduction", "elementwise", "copy", "other"}
    assert abs(sum(k["ops"] for k in kinds.values()) - summary["op_events"]) <= 0.5
    assert abs(sum(k["us"] for k in kinds.values()) - summary["op_us"]) <= 0.05
    assert 0 < summary["busy_us"] <= summary["span_us"] + 0.01
    assert kinds["matmul"]["ops"] >= row["ops_in_program"]["dot"] / 2
    # The CPU is not in the bandwidth table: no ceiling is claimed for it.
    assert "updates_per_s_if_only_moving_bytes" not in row
    # On the CPU every matmul is an XLA dot, so the compiled program's count and the lowered
    # HLO's agree (fusion adds or drops a few elementwise FLOPs, well under 1%).
    assert abs(row["gflop_per_update"] / row["compiled_cost_gflop_per_update"] - 1) < 0.01
    # achieved = FLOPs x rate; each of the three is rounded in the JSON (to 1e-4 TFLOP/s,
    # 1e-4 GFLOP and 0.01 updates/s), so the product from the printed figures may differ by
    # at most the sum of those half-units carried through the product.
    gflop, rate = row["gflop_per_update"], row["updates_per_s"]
    rounding = 0.5e-4 + 0.5e-4 * rate / 1e3 + 0.005 * gflop / 1e3
    assert abs(row["achieved_tflop_s"] - gflop * rate / 1e3) <= rounding
    # A line from before FLOPs came from the lowered HLO: recount rebuilds them from the config.
    old = dict(row, gflop_per_update=1.0, flops_source="compiled program")
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n")
    (again,) = _lines("benchmarks/profile_update.py", f"--recount={path}")
    assert again["gflop_per_update"] == row["gflop_per_update"]
    assert again["compiled_cost_gflop_per_update"] == 1.0
    assert again["mfu"] == round(again["achieved_tflop_s"] / 1.0, 4)
    # On an H200 line, recount adds the ceiling of a program that only moves its bytes at the
    # data sheet's 4.8 TB/s: 4.8e12 / (MiB x 2^20) updates/s.
    path.write_text(json.dumps(dict(row, device="NVIDIA H200")) + "\n")
    (h200,) = _lines("benchmarks/profile_update.py", f"--recount={path}")
    assert h200["hbm_tb_s"] == 4.8
    expected = 4.8e12 / (row["mbytes_accessed_per_update"] * 2**20)
    assert abs(h200["updates_per_s_if_only_moving_bytes"] - expected) <= 0.05 + 1e-4 * expected


def test_trace_summary_kinds_and_busy_time(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import jax
    import jax.numpy as jnp
    import trace_summary

    # The union of [0, 10), [5, 15) and [20, 25) is 20 long.
    assert trace_summary._busy_ns([(20, 5), (0, 10), (5, 10)]) == 20
    # kernels named as XLA's GPU backend and cuBLAS name them
    guesses = {name: trace_summary.kind_from_name(name) for name in (
        "loop_add_fusion_3", "input_reduce_fusion_1", "gemm_fusion_dot_2",
        "sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n", "transpose_fusion", "wrapped_concatenate")}
    assert list(guesses.values()) == ["elementwise", "reduction", "matmul", "matmul", "copy",
                                      "copy"]

    def body(c, _):
        return jnp.tanh(c @ c), c.sum()

    run = jax.jit(lambda x: jax.lax.scan(body, x, None, length=3)).lower(
        jnp.ones((64, 64))).compile()
    kinds = trace_summary.op_kinds(run.as_text())
    opcodes = {name: opcode for ops in trace_summary.instructions(run.as_text()).values()
               for name, opcode, _ in ops}
    assert {kinds[n] for n, op in opcodes.items() if op == "while"} == {"container"}
    assert "matmul" in kinds.values() and "reduction" in kinds.values()
    with jax.profiler.trace(str(tmp_path)):
        jax.block_until_ready(run(jnp.ones((64, 64))))
    summary = trace_summary.summarize(str(tmp_path), run.as_text(), per=3)
    # the loop itself is not an op of its own: its time is its body's
    assert all(kinds.get(o["op"]) != "container" for o in summary["longest_ops"])
    assert summary["by_kind"]["matmul"]["ops"] >= 1
    assert summary["kinds_from_hlo"] == 1.0  # on the CPU every event names its HLO op


@pytest.mark.slow  # a benchmark in a process of its own
def test_fb_update_prints_both_dtypes_their_mfu_and_their_agreement():
    rows = _lines("benchmarks/fb_update.py", "--config=point_mass", "--batch=8", "--steps=2",
                  "--repeats=1", "--per_call_steps=2", "--agree_steps=2")
    f32, bf16, agree = rows
    assert (f32["fb"]["compute_dtype"], bf16["fb"]["compute_dtype"]) == ("float32", "bfloat16")
    for row in (f32, bf16):
        # On the CPU the peak is this run's own measured matmul rate, and MFU is achieved / peak
        # (each rounded to 4 decimals in the JSON).
        dtype = row["fb"]["compute_dtype"]
        assert row["peak_source"] == (f"measured here: best 2048^3 {dtype} matmul (jnp.dot, "
                                      "float32 accumulation), same run")
        # Two CPU cores run a large matmul at tenths of a TFLOP/s (0.48-0.96 measured here,
        # float32 and bfloat16): a GFLOP/TFLOP slip would land a factor 1000 outside this range.
        assert 0.01 < row["peak_tflop_s"] < 10
        assert abs(row["mfu"] - row["achieved_tflop_s"] / row["peak_tflop_s"]) <= \
            1e-4 + 0.5e-4 / row["peak_tflop_s"]
        # A batch-8 update cannot beat a 2048^3 matmul's rate: MFU >= 1 would be a unit slip
        # (GFLOP counted as TFLOP, or a peak in the wrong unit).
        assert row["mfu"] < 1
        # the rate is the best of the timed calls (one here), each 2 updates of batch 8
        assert row["updates_per_s"] == max(row["updates_per_s_all_repeats"]) > 0
        assert (row["steps_per_call"], row["fb"]["batch_size"]) == (2, 8)
        # A batch-8 point-mass update takes well under a second per call: a rate below 1/s
        # would be seconds per update printed as updates per second.
        assert row["one_update_per_call_per_s"] >= 1
    assert agree["benchmark"] == "fb_update_agreement" and agree["updates"] == 2
    assert set(agree["mean_fb_loss"]) == {"float32", "bfloat16"}
    # the relative difference is the one of the two losses printed (each rounded to 1e-4)
    loss32, loss16 = agree["mean_fb_loss"]["float32"], agree["mean_fb_loss"]["bfloat16"]
    assert abs(agree["fb_loss_rel_diff"] - abs(loss16 - loss32) / abs(loss32)) <= \
        1e-5 + 1e-4 / abs(loss32)
    assert set(agree["params_distance_over_float32_step"]) == {"forward", "backward", "actor"}


def test_zol_flops_count_every_objective_evaluation():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import jax
    import profile_update
    import zol_search

    from fbjax.zol import ZOLConfig
    from fbjax.zol import zol_search as search

    agent, params, starts, next_obs, rewards, z0 = zol_search._setup("small", 2, 64, 8)
    lowered = jax.jit(lambda r, z: search(agent.networks, params, starts, next_obs, r, z,
                                          agent.config.discount, ZOLConfig(steps=1))[0]
                      ).lower(rewards, z0)
    whole = profile_update.cost_of(lowered)
    counted = zol_search.search_flops("small", 2, 1, 64, 8)
    # XLA counts the scan's body once, so the whole call lowered at steps = 1 is what
    # search_flops adds up from its parts (B once; per prompt one objective-and-gradient
    # evaluation and one objective evaluation of the last iterate) plus what it leaves out: the
    # Adam step and projection of z, and the part of the last iterate's gradient pass that is
    # not dropped with its unused gradient (0.4-0.7% of the whole at these sizes, measured).
    # Miscounting one evaluation per prompt would be 14-27% off; counting the info's
    # evaluations at z0 and the kept z, which the call drops, over 50%.
    assert 0 <= whole - counted <= 0.01 * whole
