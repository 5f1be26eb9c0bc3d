"""Per-task agreement of fbjax's rewards with DM Control's, on the test suite's states.

  python -m studies.reward_agreement
  # writes studies/reward_agreement/results/reward_agreement.txt

The states and references are tests/test_envs.py's (1000 per domain; half of them from DM
Control's own rollouts for the quadruped and humanoid); the test asserts <= 1e-4 per task, this
script records the figures.
"""

import json

import numpy as np

from fbjax.provenance import provenance

OUT = "studies/reward_agreement/results/reward_agreement.txt"


def main():
    import fbjax.envs as envs
    from tests.test_envs import DOMAINS, agreement

    lines = []
    for name in DOMAINS:
        ours, expected = agreement(name)
        for j, task in enumerate(envs.tasks(name)):
            error, ref = np.abs(ours[:, j] - expected[:, j]).max(), expected[:, j]
            lines.append(f"{name}/{task}: max abs diff {error:.2e}, ref mean {ref.mean():.3f} "
                         f"std {ref.std():.3f}")
            print(lines[-1], flush=True)
    meta = provenance("python -m studies.reward_agreement")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n\n" + json.dumps(meta) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
