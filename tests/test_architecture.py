"""docs/ARCHITECTURE.md lists every package module with its test file."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _listed() -> dict[str, str]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Modules and their tests", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(cxkit/[\w/]+\.py)` \| (.*) \|$", section, flags=re.M))


def test_every_module_is_listed_with_existing_tests():
    listed = _listed()
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "cxkit").rglob("*.py")
               if p.name != "__init__.py" and "resources" not in p.parts}
    assert modules - set(listed) == set(), "modules missing from docs/ARCHITECTURE.md"
    assert set(listed) - modules == set(), "docs/ARCHITECTURE.md lists modules that are gone"
    for module, tests in listed.items():
        for test in re.findall(r"`(tests/[\w/]+\.py)`", tests):
            assert (ROOT / test).is_file(), f"{module}: {test} does not exist"
