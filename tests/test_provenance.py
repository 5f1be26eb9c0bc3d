"""A provenance record names the CPU a timing came from: its model and widest vector ISA."""

from fbjax.provenance import cpu

_CPUINFO = """processor\t: 0
vendor_id\t: {vendor}
model name\t: {model}
flags\t\t: fpu sse sse2 {flags}

processor\t: 1
model name\t: {model}
flags\t\t: fpu sse sse2 {flags}
"""


def _cpuinfo(tmp_path, model, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(_CPUINFO.format(vendor="x", model=model, flags=flags))
    return str(path)


def test_cpu_names_the_model_and_the_widest_vector_isa(tmp_path):
    wide = _cpuinfo(tmp_path, "Intel(R) Xeon(R) Platinum", "avx avx2 avx512f avx512bw")
    assert cpu(wide) == {"model": "Intel(R) Xeon(R) Platinum", "isa": "avx512f"}
    narrow = _cpuinfo(tmp_path, "AMD EPYC", "avx avx2 fma")
    assert cpu(narrow) == {"model": "AMD EPYC", "isa": "avx2"}
    # A flag that merely starts like a wider one is not that one.
    old = _cpuinfo(tmp_path, "Old", "avx avx512_bf16_like")
    assert cpu(old) == {"model": "Old", "isa": "avx"}
    assert cpu(str(tmp_path / "missing"))["isa"] is None
