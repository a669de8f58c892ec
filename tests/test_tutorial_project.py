"""How tests/tutorial_project.py reads a tutorial page: a page that cannot be followed as written
fails with a message saying where, instead of building a different project."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tutorial_project import TutorialError, apply_diff, steps

SETTINGS = "MIDDLEWARE = [\n    'a',\n    'b',\n]\n"


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_diff_replaces_its_removed_lines_and_keeps_its_context() -> None:
    edited = apply_diff(SETTINGS, "     'a',\n-    'b',\n+    'c',\n ]\n", "page.md:1")
    assert edited == "MIDDLEWARE = [\n    'a',\n    'c',\n]\n"


def test_a_diff_whose_lines_are_not_in_the_file_is_refused_with_them() -> None:
    with pytest.raises(TutorialError, match=r"page.md:1: .* appear 0 times .*\n    'x',"):
        apply_diff(SETTINGS, "-    'x',\n+    'y',\n", "page.md:1")


def test_a_diff_whose_lines_appear_twice_is_refused() -> None:
    with pytest.raises(TutorialError, match="appear 2 times"):
        apply_diff(SETTINGS + SETTINGS, "-    'b',\n+    'c',\n", "page.md:1")


def test_a_snippet_whose_paragraph_names_no_file_is_refused(tmp_path: Path) -> None:
    text = """\
        ## Steps

        Add this:

        ```python
        X = 1
        ```
        """
    with pytest.raises(TutorialError, match=r"page.md:5: .* name the one file it goes in"):
        steps(page(tmp_path, text), ("Steps",))


def test_steps_are_read_only_under_the_chosen_headings_and_their_subsections(
    tmp_path: Path,
) -> None:
    text = """\
        ## Steps

        ```console
        $ django-admin startproject mysite
        ```

        ### Settings

        At the end of `mysite/settings.py`, add:

        ```python
        X = 1
        ```

        ## Elsewhere

        ```console
        $ python manage.py flush
        ```
        """
    found = steps(page(tmp_path, text), ("Steps",))
    assert [(s.lang, s.file, s.append) for s in found] == [
        ("console", None, False),
        ("python", "mysite/settings.py", True),
    ]
