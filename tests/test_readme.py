"""README and docs/ tell the truth about the repository: the two set-up commands at the top, CI
running README's test command, every command and script they show existing, every link
resolving, and README's API example running as written."""

import glob
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
PAGES = [README] + sorted(os.path.join(ROOT, "docs", n) for n in os.listdir(
    os.path.join(ROOT, "docs")) if n.endswith(".md")) + sorted(
    glob.glob(os.path.join(ROOT, "studies", "**", "README.md"), recursive=True))
MAX_README_CHARS = 10_000


def _text(path: str) -> str:
    with open(path) as f:
        return f.read()


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_readme_starts_with_the_two_set_up_commands_and_ci_runs_the_second():
    readme = _text(README)
    assert len(readme) <= MAX_README_CHARS, len(readme)
    first = _blocks(readme, "bash")[0].strip().splitlines()
    assert len(first) == 2, first
    main, tests = first
    install = "pip install -c constraints.txt -e "
    assert main.startswith(install + '".[report]" && python -m experiments.pipeline'), main
    assert tests.startswith(install + '".[test]" && python -m pytest'), tests
    ci = _text(os.path.join(ROOT, ".ci", "run"))
    pytest_args = tests.split("python -m pytest", 1)[1].strip()
    assert f"python3 -m pytest {pytest_args}\n" in ci, (pytest_args, ci)
    assert '-c constraints.txt -e ".[test]"' in ci


def _module_exists(module: str) -> bool:
    path = os.path.join(ROOT, *module.split("."))
    return os.path.exists(path + ".py") or os.path.exists(os.path.join(path, "__main__.py"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_command_script_and_link_a_page_shows_exists(page):
    text = _text(page)
    missing = []
    for module in re.findall(r"python3? -m ([A-Za-z_][\w.]*)", text):
        if module.split(".")[0] in ("fbjax", "experiments", "tests", "benchmarks", "studies") \
                and not _module_exists(module):
            missing.append(f"python -m {module}")
    for script in re.findall(r"python3? ((?:benchmarks|experiments|studies|tests)/[\w/.-]+\.py)",
                             text):
        if not os.path.exists(os.path.join(ROOT, script)):
            missing.append(script)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(page), target))):
            missing.append(f"link {target}")
    assert not missing, f"{os.path.relpath(page, ROOT)}: {missing}"


def test_the_checker_sees_a_missing_module_and_a_broken_link(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("Run `python -m experiments.nowhere` and read [this](gone.md).\n")
    with pytest.raises(AssertionError, match=r"python -m experiments.nowhere.*link gone.md"):
        test_every_command_script_and_link_a_page_shows_exists(str(page))


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_readme_api_example_runs_as_written():
    """README's finite-MDP example, executed verbatim: FB trained for 2,000 updates on four rooms
    gives one latent per goal and one action per (state, latent) row."""
    (example,) = _blocks(_text(README), "python")
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - README's own code
    assert namespace["z"].shape == (2, namespace["config"].z_dim)
    assert namespace["actions"].shape == (2,)


def _results(*parts: str):
    with open(os.path.join(ROOT, "experiments", "results", *parts)) as f:
        return json.load(f)


def _wall_time(run: str) -> int:
    """The last `wall time N s` line of a committed run's pipeline.log."""
    with open(os.path.join(ROOT, "experiments", "results", run, "pipeline.log")) as f:
        return int(re.findall(r"^wall time (\d+) s", f.read(), re.M)[-1])


def _readme_status_numbers() -> dict[str, str]:
    """README's figures, each from the committed result it cites (rounded as README rounds)."""
    maze = _results("point_mass_maze", "summary.json")
    run = _results("point_mass_maze", "results.json")
    with open(os.path.join(ROOT, "studies", "ratio_accuracy", "results",
                           "ratio_accuracy.json")) as f:
        ratio = json.load(f)["results"]
    medians = sorted(round(100 * ratio[m]["fb"]["init/linear"]["ope_error_median"])
                     for m in ("four_rooms", "random"))
    wall, avx2_wall = _wall_time("point_mass_maze"), _wall_time("point_mass_maze_avx2")
    avx2 = _results("point_mass_maze_avx2", "summary.json")
    return {
        "AVX2 machine's share":
            f"{round(100 * avx2['aggregates']['fb']['mean'])}% of the navigator: its",
        "AVX2 machine's wall time": f"takes {avx2_wall // 60} minutes with collection",
        "updates per seed": f"At {run['fb_steps'] // 1000}k updates per seed",
        "share of the navigator": f"earns {round(100 * maze['aggregates']['fb']['mean'])}% of",
        "OPE error on the ground truth": f"a median {medians[0]}-{medians[1]}% of the true value",
        "main command's wall time": f"takes {wall // 60} minutes on a 2-core machine",
    }


def test_readme_numbers_match_the_committed_results_they_cite():
    readme = " ".join(_text(README).split())  # line breaks do not split a figure
    wrong = {what: phrase for what, phrase in _readme_status_numbers().items()
             if phrase not in readme}
    assert not wrong, f"README does not say (or no longer matches) {wrong}"


def test_the_main_commands_table_in_docs_matches_its_committed_summary():
    """docs/results.md's first table (% of the navigator, mean [95% CI]) row by row against
    experiments/results/point_mass_maze/summary.json."""
    per_task = {(r["task"], r["method"]): r["return"]
                for r in _results("point_mass_maze", "summary.json")["per_task"]}
    text = _text(os.path.join(ROOT, "docs", "results.md"))
    header, _, *rows = re.search(r"\n(\| task \|.*?)\n\n", text, re.S).group(1).splitlines()
    methods = [c.strip() for c in header.strip("|").split("|")][1:]
    assert len(rows) == 4 and "fb" in methods
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        task = cells[0].split(" ")[0]
        nav = per_task[(task, "navigator")]["mean"]
        for method, cell in zip(methods, cells[1:], strict=True):
            s = per_task[(task, method)]
            want = (f"{round(100 * s['mean'] / nav)}% [{round(100 * s['lo'] / nav)}, "
                    f"{round(100 * s['hi'] / nav)}]")
            assert cell == want, (task, method, cell, want)
