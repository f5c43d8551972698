"""Sphinx configuration of the profilespawner documentation (MyST Markdown pages).

Built with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (tox
env ``docs``). The JSON Schema shipped in the package is also published with
the HTML, at ``schema/profiles.schema.json``, for editors to validate against.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parent / "profilespawner" / "schema" / "profiles.schema.json"

# the checkout's package, also when it is not installed (its dependencies must be)
sys.path.insert(0, str(HERE.parent))

from profilespawner import __version__  # noqa: E402

project = "profilespawner"
author = "profilespawner contributors"
copyright = "profilespawner contributors"
release = version = __version__

extensions = [
    "myst_parser",
    "autodoc_traits",  # .. autoconfigurable:: (adds sphinx.ext.autodoc)
    "sphinx_copybutton",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"

html_theme = "alabaster"
html_title = f"profilespawner {version}"
html_theme_options = {"description": "Profiles for KubeSpawner pods, from YAML files and ConfigMaps"}

# copy only commands, not the "$ " prompts or the output of the examples
copybutton_prompt_text = r"\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False


def _publish_schema(app: Sphinx, exception: Exception | None) -> None:
    """Publish the package's schema (one source of truth) next to the pages."""
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "schema"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SCHEMA, target / SCHEMA.name)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", _publish_schema)
    return {"parallel_read_safe": True}
