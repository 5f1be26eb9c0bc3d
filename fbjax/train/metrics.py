"""Training curves on disk: `metrics.jsonl` (one JSON object per logged step) and TensorBoard
event files (tensorboardX, no TensorFlow needed), both under RUN_DIR/metrics. Only process 0
writes; `tensorboard --logdir RUN_DIR/metrics` shows the curves while a run goes on. Where
tensorboardX is not installed (a bare accelerator image) only the JSONL file is written, and the
writer says so once."""

import json
import os

import jax


class MetricsWriter:
    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)
        self._active = jax.process_index() == 0
        self._events = None
        if self._active:
            os.makedirs(self.directory, exist_ok=True)
            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                print(f"metrics: tensorboardX is not installed; writing only "
                      f"{self.directory}/metrics.jsonl", flush=True)
            else:
                self._events = SummaryWriter(self.directory)
            self._jsonl = open(os.path.join(self.directory, "metrics.jsonl"), "a")  # noqa: SIM115

    def write(self, step: int, metrics: dict[str, float]) -> None:
        if not self._active:
            return
        self._jsonl.write(json.dumps({"step": step, **metrics}) + "\n")
        self._jsonl.flush()
        if self._events is not None:
            for name, value in metrics.items():
                self._events.add_scalar(name, value, step)
            self._events.flush()

    def close(self) -> None:
        if self._active:
            self._jsonl.close()
            if self._events is not None:
                self._events.close()
            self._active = False
