"""The package's layers: no module imports a package above its own, and `import fbjax.fb` stays
free of MuJoCo and orbax."""

import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "fbjax")

# Bottom to top. A module may import its own unit and units of lower layers only.
LAYERS = (
    {"version", "types", "configs", "provenance"},
    {"nets", "agent"},
    {"fb"},
    {"zol", "dice"},
    {"tabular", "envs", "baselines"},
    {"data"},
    {"train"},
    {"eval"},
    {"pipeline"},
    {"cli"},  # the console scripts: they start the repository's experiments/ binaries
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    """fbjax.fb.learner -> fb; fbjax.nets -> nets."""
    return module.split(".")[1]


def _imports(path: str) -> set[str]:
    tree = ast.parse(open(path).read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("fbjax.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "fbjax":
                found |= {f"fbjax.{a.name}" for a in node.names}
            elif node.module.startswith("fbjax."):
                found.add(node.module)
    return found


def _modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                yield rel.removesuffix(".__init__"), path


def test_every_unit_has_a_layer():
    units = {_unit(m) for m, _ in _modules() if m != "fbjax"}
    assert units == set(RANK), f"unplaced: {units - set(RANK)}, gone: {set(RANK) - units}"


def test_no_module_imports_a_layer_above_it():
    wrong = []
    for module, path in _modules():
        if module == "fbjax":  # the root re-exports everything, lazily
            continue
        own = _unit(module)
        for imported in _imports(path):
            other = _unit(imported)
            if other != own and RANK[other] >= RANK[own]:
                wrong.append(f"{module} imports {imported} ({own} is layer {RANK[own]}, "
                             f"{other} layer {RANK[other]})")
    assert not wrong, "\n".join(wrong)


def _repo_imports(path: str) -> set[str]:
    """The repository's own top-level modules a file imports (experiments.X, studies.X)."""
    found = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.module
                 and node.level == 0 else [])
        found |= {n for n in names if n.split(".")[0] in ("experiments", "studies")}
    return found


# What a test may import from outside the library: the configs the binaries read and the
# binaries' shared driver (its refusal rules are tested in-process).
TEST_MAY_IMPORT = ("experiments.configs", "experiments.common")


def test_tests_import_the_library_not_scripts():
    tests = os.path.join(ROOT, "tests")
    wrong = []
    for folder, _, files in os.walk(tests):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                wrong += [f"{os.path.relpath(path, ROOT)} imports {m}" for m in _repo_imports(path)
                          if not m.startswith(TEST_MAY_IMPORT) and m != "experiments"]
    assert not wrong, "\n".join(wrong)


def test_studies_and_binaries_stand_on_the_library_alone():
    """A study may use the library and the binaries' driver, not another study or a binary;
    a binary may not use a study."""
    wrong = []
    for top in ("experiments", "studies"):
        for folder, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != "results"]
            for name in (f for f in files if f.endswith(".py")):
                path = os.path.join(folder, name)
                own = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                for m in _repo_imports(path):
                    same = m == own.removesuffix(".__main__") or own.startswith(m + ".")
                    if m.startswith("studies") and not same:
                        wrong.append(f"{own} imports {m}")
                    elif (m.startswith("experiments") and not same
                          and not m.startswith(TEST_MAY_IMPORT)):
                        wrong.append(f"{own} imports {m}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import jax\nfrom fbjax.pipeline import mjx\n\ndef f():\n"
                   "    import fbjax.eval.report\n")
    assert _imports(str(bad)) == {"fbjax.pipeline", "fbjax.eval.report"}


def test_importing_fb_loads_neither_mujoco_nor_orbax():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import fbjax.fb"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "jax" in loaded and "fbjax.fb.learner" in loaded  # the trace is what we think
    heavy = sorted(m for m in loaded if m.split(".")[0] in ("mujoco", "orbax"))
    assert not heavy, heavy


def test_root_exports_resolve_and_train_is_the_package():
    import fbjax
    import fbjax.train

    assert fbjax.train is sys.modules["fbjax.train"]
    assert fbjax.train.Checkpointer is fbjax.Checkpointer
    for name in fbjax.__all__:
        assert getattr(fbjax, name) is not None, name


MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60


def _sources():
    """Every Python file of the repository (outside hidden folders and run outputs)."""
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in (
            "runs", "__pycache__", "build", "dist") and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def _too_long(path: str) -> list[str]:
    source = open(path).read()
    where = os.path.relpath(path, ROOT)
    found = []
    if source.count("\n") > MAX_FILE_LINES:
        found.append(f"{where}: {source.count(chr(10))} lines")
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_file_over_400_lines_and_no_function_over_60_anywhere():
    sources = list(_sources())
    assert any(p.endswith(os.path.join("tests", "test_layers.py")) for p in sources)
    assert any(os.sep + "experiments" + os.sep in p for p in sources)
    too_long = [line for path in sources for line in _too_long(path)]
    assert not too_long, "\n".join(too_long)


def test_the_size_check_sees_a_long_function(tmp_path):
    long = tmp_path / "long.py"
    long.write_text("def f():\n" + "    x = 1\n" * 60 + "\n\ndef g():\n    return 1\n")
    assert _too_long(str(long)) == [f"{os.path.relpath(long, ROOT)}:1 f: 61 lines"]


# The library passes typed values between its parts; string keys are for the edges (file formats
# such as the dataset's shards, buffers keyed by field). Issue 27 asked for fewer than 60.
MAX_STRING_SUBSCRIPTS = 60


def _string_subscripts(path: str) -> int:
    """`x["name"]`: subscripts whose index is a string literal."""
    return sum(isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
               and isinstance(node.slice.value, str)
               for node in ast.walk(ast.parse(open(path).read(), path)))


def test_the_library_reads_attributes_not_string_keys():
    counts = {os.path.relpath(p, ROOT): n for _, p in _modules() if (n := _string_subscripts(p))}
    total = sum(counts.values())
    worst = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
    assert total < MAX_STRING_SUBSCRIPTS, f"{total} string subscripts in fbjax; most in {worst}"


def test_the_subscript_count_sees_a_string_key(tmp_path):
    code = tmp_path / "keys.py"
    code.write_text("a = {}\nb = a['x'] + a[0]\na['y'] = b\nc = a.get('z')\n")
    assert _string_subscripts(str(code)) == 2
