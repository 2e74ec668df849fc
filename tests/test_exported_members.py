"""The public API is exactly `sorastudio.__all__`, and every name in it resolves to its own object."""

from __future__ import annotations

import subprocess
import sys

import sorastudio


def test_all_lists_exactly_the_lazily_loaded_names() -> None:
    assert set(sorastudio.__all__) == {"__version__", *sorastudio._EXPORTS}
    assert sorted(dir(sorastudio)) == sorted(sorastudio.__all__)


def test_every_exported_name_resolves_and_says_where_it_lives() -> None:
    for name in sorastudio.__all__:
        obj = getattr(sorastudio, name)
        if name != "__version__":
            assert obj.__name__ == name
            assert obj.__module__.startswith("sorastudio."), (name, obj.__module__)


def test_unknown_names_are_an_attribute_error() -> None:
    try:
        sorastudio.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_does_not_load_the_engine_or_the_web_stack() -> None:
    code = (
        "import sys, sorastudio; "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'fastapi', 'av'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
