"""Walker on one accelerator, as issue 12's study runs it: the full-size FB networks of SPEC
section 3 (the published DMC settings: z 50, F and actor 1024, B 256 x 2, lr 1e-4, tau 0.01,
discount 0.98, batch 1024, 50k reward-inference samples), four seeds trained in one program,
RND data from 256 environments x 8 sequential episodes (2,048,000 transitions; the explorer
learns every 100 steps inside episodes and between them), TD3 oracles of 100k updates for every
seed and task in one program, and 32 paired episodes per task, method and seed. The number of FB
updates is set by experiments/device_walker_study.sh, which stops training by the clock.

  python -m experiments.pipeline --config=experiments/configs/walker_study.py \
      --config.train.num_steps=100000 --config.train.save_every=100000
"""

from experiments.configs import walker


def get_config():
    config = walker.get_config()
    config.workdir = "runs/walker_study"
    config.seeds = (0, 1, 2, 3)
    config.collect.update(num_envs=256, num_episodes=8)
    config.collect.rnd.update(updates_per_episode=1000, buffer_size=1_000_000)
    config.train.update(num_steps=100_000, steps_per_call=5000, save_every=50_000,
                        parallel="seeds")
    config.oracle.td3.update(hidden=256, batch_size=256)
    # 100k updates: at 20k (the H200 run of 2026-11-27) FB beat TD3 beyond both CIs on stand
    # and walk, so "% of the oracle" meant nothing there. About 70 s for 4 seeds x 5 tasks there.
    config.oracle.train.update(num_steps=100_000, steps_per_call=5000, save_every=50_000,
                               parallel="seeds")
    config.eval.update(num_episodes=32)
    return config
