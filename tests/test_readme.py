"""README and docs/ tell the truth about the repository: the two set-up commands at the top, CI
running README's test command, every command and script they show existing, every link
resolving, and README's API example running as written."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
PAGES = [README] + sorted(os.path.join(ROOT, "docs", n) for n in os.listdir(
    os.path.join(ROOT, "docs")) if n.endswith(".md"))
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


def test_readme_api_example_runs_as_written():
    """README's finite-MDP example, executed verbatim: FB trained for 2,000 updates on four rooms
    gives one latent per goal and one action per (state, latent) row."""
    (example,) = _blocks(_text(README), "python")
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - README's own code
    assert namespace["z"].shape == (2, namespace["config"].z_dim)
    assert namespace["actions"].shape == (2,)
