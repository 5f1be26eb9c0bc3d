"""Training curves on disk: one JSON line per logged step, TensorBoard events beside them, and a
JSONL-only fallback where tensorboardX is missing."""

import json
import sys

from fbjax.train.metrics import MetricsWriter


def test_writes_jsonl_and_event_files(tmp_path):
    writer = MetricsWriter(str(tmp_path / "metrics"))
    writer.write(10, {"train/loss": 1.5})
    writer.write(20, {"train/loss": 0.5, "train/q/0": 2.0})
    writer.close()
    lines = [json.loads(x) for x in (tmp_path / "metrics" / "metrics.jsonl").read_text().split("\n")
             if x]
    assert lines == [{"step": 10, "train/loss": 1.5},
                     {"step": 20, "train/loss": 0.5, "train/q/0": 2.0}]
    events = list((tmp_path / "metrics").glob("events.out.tfevents.*"))
    assert len(events) == 1 and events[0].stat().st_size > 0


def test_without_tensorboardx_only_jsonl_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import now raises ImportError
    writer = MetricsWriter(str(tmp_path / "m"))
    writer.write(1, {"train/loss": 3.0})
    writer.close()
    assert "tensorboardX is not installed" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["metrics.jsonl"]
