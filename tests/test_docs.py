"""The documentation keeps up with the code: every environment variable the settings read is in
docs/configuration.md, every variable it lists is read, and every relative link in README.md and
docs/ leads to a file (and heading) that exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
# The files that read the environment for the running system.
SETTINGS_SOURCES = [
    ROOT / "authority" / "settings.py",
    ROOT / "authority" / "env.py",
    ROOT / "gunicorn.conf.py",
]
ENV_READERS = {"env_str", "env_bool", "env_int", "env_minutes", "env_list", "env_choice"}
MARKDOWN = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(ROOT.glob("authority/*/README.md")),
    ROOT / "benchmarks" / "README.md",
]


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _reads_environment(func: ast.expr, readers: set[str]) -> bool:
    """An env reader, `os.environ.get` or `os.getenv`."""
    if isinstance(func, ast.Name):
        return func.id in readers
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "get":
        return _is_os_environ(func.value)
    return func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os"


def _wrappers(tree: ast.Module) -> set[str]:
    """Functions of the module that hand their first parameter to an env reader (`_secret`)."""
    names = set()
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or not function.args.args:
            continue
        first = function.args.args[0].arg
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ENV_READERS
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == first
            ):
                names.add(function.name)
    return names


def _variables_read(path: Path) -> tuple[set[str], list[str]]:
    """The environment variables a module reads by literal name, and the reads it makes with a
    name this test cannot see (outside the readers themselves: a defect)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    readers = ENV_READERS | _wrappers(tree)
    parameters = {
        function.args.args[0].arg
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.args.args
    }
    found: set[str] = set()
    hidden: list[str] = []

    def take(argument: ast.expr, line: int) -> None:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.add(argument.value)
        # A parameter is the readers' own business; env.py's f"{name}_FILE" is documented.
        elif not isinstance(argument, ast.JoinedStr) and not (
            isinstance(argument, ast.Name) and argument.id in parameters
        ):
            hidden.append(f"{path.name}:{line}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _reads_environment(node.func, readers):
            take(node.args[0], node.lineno)
        elif (
            isinstance(node, ast.Subscript)
            and _is_os_environ(node.value)
            and isinstance(node.ctx, ast.Load)
        ):
            take(node.slice, node.lineno)
    return found, hidden


def _all_variables_read() -> set[str]:
    variables: set[str] = set()
    for path in SETTINGS_SOURCES:
        found, hidden = _variables_read(path)
        assert not hidden, f"read the environment with a literal name (docs test): {hidden}"
        variables |= found
    return variables


def test_the_reader_finds_the_settings_variables():
    """The scan itself works: it sees reads through env_*, through _secret and in gunicorn's file."""
    variables = _all_variables_read()
    assert {"AUTHORITY_MODE", "SECRET_KEY", "EMAIL_PORT", "GUNICORN_THREADS"} <= variables
    assert len(variables) > 130


def test_every_environment_variable_is_in_configuration_md():
    text = CONFIGURATION.read_text()
    missing = sorted(name for name in _all_variables_read() if f"`{name}`" not in text)
    assert not missing, f"docs/configuration.md does not mention: {', '.join(missing)}"
    # env_str reads NAME_FILE for any NAME: the page must say so.
    assert "`NAME_FILE`" in text


def test_configuration_md_lists_only_variables_that_are_read():
    """A variable named in the first column of a table is one the settings read."""
    listed = set()
    for line in CONFIGURATION.read_text().splitlines():
        if line.startswith("| `"):
            listed |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    assert len(listed) > 50
    stale = sorted(listed - _all_variables_read())
    assert not stale, f"docs/configuration.md lists variables nothing reads: {', '.join(stale)}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#{1,6} (.+)", line)):
            slug = _slug(match.group(1))
            seen = counts.get(slug, 0)
            counts[slug] = seen + 1
            anchors.add(slug if seen == 0 else f"{slug}-{seen}")
    return anchors


def _links(path: Path) -> list[str]:
    """Targets of the Markdown links outside code blocks and code spans."""
    targets = []
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        prose = re.sub(r"`[^`]*`", "", line)
        targets += re.findall(r"\]\(([^)\s]+)\)", prose)
    return targets


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_lead_to_existing_files_and_headings(document):
    broken = []
    for target in _links(document):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        destination = (document.parent / file_part).resolve() if file_part else document
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{document.relative_to(ROOT)}: {', '.join(broken)}"


def test_the_link_check_sees_links():
    """The scan is not vacuous: README.md links to the configuration page."""
    assert "docs/configuration.md" in _links(ROOT / "README.md")
