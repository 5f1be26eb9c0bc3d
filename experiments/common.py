"""What the MJX experiment binaries share: the --config flag (default: the point-mass config,
found from this file so the binaries run from any directory) and reading it as a plain dict."""

import json
import os
from typing import Any

from absl import logging
from ml_collections import config_flags

DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs",
                              "point_mass.py")
CONFIG = config_flags.DEFINE_config_file("config", DEFAULT_CONFIG, "Experiment config file.")


def read_config() -> dict[str, Any]:
    """The parsed --config as a plain dict; also quiets orbax's per-file INFO logging."""
    logging.set_verbosity(logging.WARNING)
    return json.loads(CONFIG.value.to_json())
