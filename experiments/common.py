"""What the experiment binaries share: the --config flag (default: the embedded point-mass maze
config, found from this file so the binaries run from any directory), the multi-process flags, and
the one conversion of the ml_collections config into the typed config tree.

Run them as modules from the repository root: `python -m experiments.pipeline`.
"""

import importlib.util
import os
import re
import sys
import traceback

import jax
from absl import app, flags, logging
from ml_collections import config_flags

import fbjax
from fbjax.pipeline.config import ExperimentConfig, TabularConfig, experiment_config
from fbjax.train.checkpoint import CheckpointError
from fbjax.train.lock import FolderLocked

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "configs")
DEFAULT_CONFIG = os.path.join(CONFIGS, "point_mass_maze.py")
# Errors our code raises on purpose when it refuses an input; printed as one line.
REFUSALS = (ValueError, KeyError, FileNotFoundError, ImportError, FolderLocked, CheckpointError)
_STUDIES = os.path.join(os.path.dirname(HERE), "studies")  # their binaries refuse as ours do
_OURS = (os.path.dirname(os.path.abspath(fbjax.__file__)) + os.sep, HERE + os.sep,
         _STUDIES + os.sep)
TRACEBACK_ENV = "FBJAX_TRACEBACK"


def _unknown_override(argv: list[str]) -> str | None:
    """The first --config.a.b=... of `argv` that names no field of the config file, with the
    fields that level has; None when every override names a field."""
    path = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), DEFAULT_CONFIG)
    spec = importlib.util.spec_from_file_location("_fbjax_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    for arg in argv:
        if arg.startswith("--config.") and "=" in arg:
            node, keys = config, arg[len("--config."):].split("=", 1)[0].split(".")
            for depth, key in enumerate(keys):
                if not hasattr(node, "keys") or key not in node:
                    where = ".".join(["config", *keys[:depth]])
                    fields = sorted(node.keys()) if hasattr(node, "keys") else []
                    return (f"{arg.split('=', 1)[0]}: {where} has no field {key!r}"
                            + (f"; its fields are {fields}" if fields else ""))
                node = node[key]
    return None


def _refuse_unknown_override() -> None:
    """Called while an AttributeError/KeyError from parsing the flags is being handled: one line
    and exit 2 when an override names no field, else the error goes on."""
    message = _unknown_override(sys.argv)
    if message is None:
        raise  # noqa: PLE0704 - re-raises the error being handled by the caller
    print(f"fbjax: refused: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


try:  # ml_collections applies the overrides of the default config while defining the flag...
    CONFIG = config_flags.DEFINE_config_file("config", DEFAULT_CONFIG, "Experiment config file.")
except (AttributeError, KeyError):
    _refuse_unknown_override()
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "host:port of process 0, for multi-process training.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", 1, "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", 0, "This process's index.")
_IMPORTS = flags.DEFINE_multi_string(
    "import_module", [], "A Python module to import before the config is read, e.g. one that "
    "calls fbjax.envs.register for --config.domain to name (repeatable; importable from the "
    "working directory or PYTHONPATH).")
_HEARTBEAT = flags.DEFINE_integer(
    "heartbeat_timeout", 30, "Multi-process: seconds without a heartbeat after which the other "
    "processes treat a process as dead and stop.")


def read_config(mjx_only: bool = True) -> ExperimentConfig | TabularConfig:
    """Joins the other processes (with --num_processes > 1), quiets orbax's per-file INFO logging
    and returns the typed config tree of --config (an MJX one unless `mjx_only` is False)."""
    logging.set_verbosity(logging.WARNING)
    if _NUM_PROCESSES.value > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value,
                                   heartbeat_timeout_seconds=_HEARTBEAT.value)
        sys.excepthook = _stop_this_process
    for module in _IMPORTS.value:
        _import(module)
    config = experiment_config(CONFIG.value.to_dict())
    if mjx_only and not isinstance(config, ExperimentConfig):
        raise ValueError("--config is a finite-MDP config (it has `env`, no `domain`); this "
                         "binary runs MJX configs such as experiments/configs/point_mass.py "
                         "(python -m experiments.train runs tabular ones)")
    return config


def _import(module: str) -> None:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise ValueError(f"--import_module={module}: cannot import it ({e}); it must be "
                         "importable from the working directory or PYTHONPATH") from e


def run(main) -> None:
    """`app.run(main)`, except that a refusal (an error our code raised on purpose: a bad config
    value, a missing dataset, a locked workdir, an unusable checkpoint, a missing extra) prints
    one line `fbjax: refused: ...` and exits 1 instead of a traceback. Errors raised inside JAX or
    another library are bugs to report and keep their traceback; FBJAX_TRACEBACK=1 shows it for
    refusals too."""
    started = False

    def refusing(argv):
        nonlocal started
        started = True
        try:
            return main(argv)
        except REFUSALS as error:
            if os.environ.get(TRACEBACK_ENV) or not _raised_by_us(error):
                raise
            message = str(error.args[0]) if isinstance(error, KeyError) and error.args else \
                str(error)
            print(f"fbjax: refused: {message} ({TRACEBACK_ENV}=1 shows the traceback)",
                  file=sys.stderr, flush=True)
            if _NUM_PROCESSES.value > 1:
                os._exit(1)  # do not wait at JAX's shutdown barrier for the other processes
            sys.exit(1)
    try:  # ...and those of a --config=FILE while parsing the flags
        app.run(refusing)
    except (AttributeError, KeyError):
        if started:
            raise
        _refuse_unknown_override()


def _raised_by_us(error: BaseException) -> bool:
    """Raised in fbjax/ or experiments/ (in this process, or in a worker process whose traceback
    multiprocessing attached as the cause), and, for a KeyError, with a sentence for its message
    (a bare missing key is a bug, not a refusal)."""
    if isinstance(error, KeyError) and not (error.args and " " in str(error.args[0])):
        return False
    remote = getattr(error.__cause__, "tb", None)  # raised in a worker process (cores)
    if isinstance(remote, str):
        files = re.findall(r'File "([^"]+)"', remote)
        return bool(files) and files[-1].startswith(_OURS)
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(_OURS)


def _stop_this_process(kind, error, tb) -> None:
    """A multi-process run whose process fails (often because another one died: its collectives
    then fail here) exits at once with one clear line, instead of waiting at JAX's shutdown
    barrier for the dead process until the heartbeat timeout aborts it."""
    traceback.print_exception(kind, error, tb)
    print(f"fbjax: process {_PROCESS_ID.value} of {_NUM_PROCESSES.value} stops: "
          f"{kind.__name__}: {str(error).splitlines()[0] if str(error) else ''}. If another "
          "process of this run was killed or crashed, this is the expected consequence: start "
          "every process again (training resumes from its last checkpoint).",
          file=sys.stderr, flush=True)
    os._exit(1)
