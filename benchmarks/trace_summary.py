"""What a compiled program spends its time on, from a jax.profiler trace: op time by kind (matmul,
reduction, elementwise, copy, other), the ops that take longest, and how much of the traced span
the device is busy at all (the rest is launch gaps, host waits and syncs).

Used by profile_update.py and zol_search.py (`--trace DIR`); run on its own to summarise a trace
folder written earlier:

  python benchmarks/trace_summary.py DIR [--hlo FILE] [--per N]

Accelerator traces are read from their device planes (one event per kernel, tagged with the HLO
op that launched it); CPU traces from the host threads that run XLA's thunks. Each op's kind comes
from the compiled HLO text when it is given (a fusion is a matmul when its computation holds a dot
or convolution, a reduction when it holds a reduce; cuBLAS/cuDNN gemm custom calls are matmuls);
an event the HLO does not name (no HLO text, or a kernel without its op's tag) is classed by its
kernel name (`kind_from_name`); `kinds_from_hlo` is the fraction of events classed from the HLO.
"""

import argparse
import collections
import glob
import json
import os
import re
import sys

KINDS = ("matmul", "reduction", "elementwise", "copy", "other")
# Ops whose trace event spans the ops they run (a loop's body): their time is their children's.
_CONTAINERS = {"while", "conditional", "call"}
# `name = type opcode(`; a tuple type may hold /*index=N*/ comments.
_INSTRUCTION = re.compile(r"\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(?:\(.*?\)|\S+)\s+([\w\-]+)\(")
_HEADER = re.compile(r"\s*(?:ENTRY\s+)?%?([\w.\-]+)\s.*\{\s*$")
_CALLS = re.compile(r"(?:calls|to_apply|body|condition)=%?([\w.\-]+)")


def instructions(hlo_text: str) -> dict[str, list[tuple[str, str, str]]]:
    """The (name, opcode, line) of each instruction of an HLO module's text, by computation."""
    computations: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
    current = None
    for line in hlo_text.splitlines():
        m = _INSTRUCTION.match(line)
        if m and current is not None:
            computations[current].append((m.group(1), m.group(2), line))
        elif _HEADER.match(line):
            current = _HEADER.match(line).group(1)
    return computations


def op_kinds(hlo_text: str) -> dict[str, str]:
    """Each instruction of an optimised HLO module -> its kind (KINDS, or 'container')."""
    computations = instructions(hlo_text)

    def opcodes(name, seen=()):  # every opcode a computation runs, through nested calls
        found = set()
        for _, opcode, line in computations.get(name, ()):
            found.add(opcode)
            for callee in _CALLS.findall(line):
                if callee not in seen:
                    found |= opcodes(callee, (*seen, name))
        return found

    kinds = {}
    for body in computations.values():
        for name, opcode, line in body:
            kinds[name] = _kind(opcode, line, opcodes)
    return kinds


def _kind(opcode: str, line: str, opcodes) -> str:
    if opcode in _CONTAINERS:
        return "container"
    if opcode in ("dot", "convolution"):
        return "matmul"
    if opcode == "custom-call":
        target = re.search(r'custom_call_target="([^"]*)"', line)
        target = target.group(1).lower() if target else ""
        return "matmul" if ("gemm" in target or "matmul" in target or "conv" in target) \
            else "other"
    if opcode == "fusion":
        inner = set()
        for callee in _CALLS.findall(line):
            inner |= opcodes(callee)
        if inner & {"dot", "convolution"} or "gemm" in line.lower():
            return "matmul"
        if "reduce" in inner or "reduce-window" in inner:
            return "reduction"
        if inner and inner <= {"parameter", "copy", "transpose", "bitcast", "reshape",
                               "broadcast", "slice", "concatenate", "dynamic-slice",
                               "dynamic-update-slice", "tuple", "get-tuple-element"}:
            return "copy"
        return "elementwise"
    if opcode in ("copy", "transpose", "copy-start", "copy-done", "dynamic-update-slice",
                  "dynamic-slice", "concatenate", "slice"):
        return "copy"
    if opcode == "reduce":
        return "reduction"
    return "other"


def kind_from_name(name: str) -> str:
    """A kernel's kind guessed from its name, for events that name no HLO op (e.g. kernels that
    a CUDA graph replays): XLA names kernels after their fusions (loop_add_fusion,
    input_reduce_fusion, gemm_fusion_dot, transpose_fusion), cuBLAS/CUTLASS after the gemm."""
    low = name.lower()
    if any(k in low for k in ("gemm", "xmma", "cutlass", "cublas", "matmul", "dot")):
        return "matmul"
    if "reduce" in low or low.startswith("input_"):
        return "reduction"
    if any(k in low for k in ("copy", "transpose", "concatenate", "slice", "memcpy")):
        return "copy"
    if "fusion" in low or low.startswith("loop_"):
        return "elementwise"
    return "other"


def _trace_file(folder: str) -> str:
    found = glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True)
    if not found:
        raise FileNotFoundError(f"trace_summary: no *.xplane.pb under {folder!r} (expected the "
                                "folder given to jax.profiler.trace)")
    return max(found, key=os.path.getmtime)


def _op_events(data):
    """(source lines, [(op, start_ns, duration_ns)]) of the trace's device planes, or of the
    host's XLA threads when there is no device plane (CPU)."""
    device = [p for p in data.planes if p.name.startswith("/device:")]
    if device:
        lines = []
        for plane in device:
            named = {line.name: line for line in plane.lines}
            if "XLA Ops" in named:
                lines.append((plane.name, named["XLA Ops"]))
            else:
                lines += [(plane.name, line) for line in plane.lines
                          if line.name.startswith("Stream")] or \
                         [(plane.name, line) for line in plane.lines]
    else:
        lines = [(p.name, line) for p in data.planes if p.name == "/host:CPU"
                 for line in p.lines if line.name.startswith("tf_XLA")]
    events = []
    for _, line in lines:
        for event in line.events:
            stats = dict(event.stats)
            op = stats.get("hlo_op") or (event.name if device else None)
            if op:
                events.append((str(op).lstrip("%"), event.start_ns, event.duration_ns))
    return sorted({f"{p} | {line.name}" for p, line in lines}), events


def _busy_ns(intervals) -> float:
    """Length of the union of [start, start + duration) intervals."""
    busy, end = 0.0, float("-inf")
    for start, duration in sorted(intervals):
        stop = start + duration
        if stop > end:
            busy += stop - max(start, end)
            end = stop
    return busy


def summarize(folder: str, hlo_text: str | None = None, per: int = 1, top: int = 10) -> dict:
    """Summary of the newest trace under `folder`; times are per `per` (e.g. updates per traced
    call), in microseconds. `busy_fraction` = time any op runs / span from the first op's start
    to the last op's end. `op_events` counts trace events: one per kernel on a GPU; on the CPU an
    op split over threads counts once per thread, and `op_us` sums thread time."""
    import jax

    data = jax.profiler.ProfileData.from_file(_trace_file(folder))
    source, events = _op_events(data)
    kinds = op_kinds(hlo_text) if hlo_text else {}
    events = [e for e in events if kinds.get(e[0]) != "container"]
    if not events:
        return {"source": source, "events": 0, "note": "no op events in the trace"}
    span = max(s + d for _, s, d in events) - min(s for _, s, _ in events)
    busy = _busy_ns([(s, d) for _, s, d in events])
    by_kind = {k: [0, 0.0] for k in KINDS}
    by_op = collections.defaultdict(lambda: [0, 0.0])
    named = sum(op in kinds for op, _, _ in events)
    for op, _, duration in events:
        kind = kinds.get(op) or kind_from_name(op)
        by_kind[kind][0] += 1
        by_kind[kind][1] += duration
        by_op[op][0] += 1
        by_op[op][1] += duration
    total = sum(t for _, t in by_kind.values())
    longest = sorted(by_op.items(), key=lambda kv: -kv[1][1])[:top]
    return {
        "source": source, "events": len(events), "per": per,
        "span_us": round(span / 1e3 / per, 2), "busy_us": round(busy / 1e3 / per, 2),
        "busy_fraction": round(busy / span, 4) if span else None,
        "op_us": round(total / 1e3 / per, 2),
        "op_events": round(len(events) / per, 1),
        "kinds_from_hlo": round(named / len(events), 4),  # the rest: kind_from_name
        "by_kind": {k: {"ops": round(n / per, 1), "us": round(t / 1e3 / per, 2),
                        "share_of_op_time": round(t / total, 4) if total else None}
                    for k, (n, t) in by_kind.items()},
        "longest_ops": [{"op": op, "kind": kinds.get(op) or kind_from_name(op),
                         "runs": round(n / per, 1),
                         "us": round(t / 1e3 / per, 2)} for op, (n, t) in longest],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--hlo", default=None, help="the compiled HLO text (kinds of ops)")
    parser.add_argument("--per", type=int, default=1, help="divide times by this (e.g. steps)")
    args = parser.parse_args()
    hlo = open(args.hlo).read() if args.hlo else None
    print(json.dumps(summarize(args.folder, hlo, args.per)))


if __name__ == "__main__":
    sys.exit(main())
