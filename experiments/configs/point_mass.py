"""Point mass in the open arena: collect with RND, pretrain FB, prompt and evaluate all tasks.

Sized for a 2-core CPU (the pipeline's embedded default); see walker.py for an accelerator.
"""

import ml_collections

from fbjax.data.rnd import RNDConfig


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.domain = "point_mass"
    config.seed = 0
    config.workdir = "runs/point_mass"
    rnd = RNDConfig(updates_per_episode=500)
    config.collect = ml_collections.ConfigDict({
        "policy": "rnd", "num_envs": 32, "num_episodes": 8, "episode_length": 0,
        "noise_correlation": 0.9, "noise_scale": 0.6,
        "rnd": {"rep_dim": rnd.rep_dim, "hidden": rnd.hidden, "lr": rnd.lr,
                "expl_noise": rnd.expl_noise, "updates_per_episode": rnd.updates_per_episode,
                "buffer_size": rnd.buffer_size, "td3": {"hidden": 256, "layers": 2}},
    })
    return config
