"""Reading the documentation, for the tests that keep it true (unit,
integration and packaging suites alike): fenced blocks, the hub configuration
they hold, the files of the security page, the Containerfile."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from traitlets.config import Config

__all__ = [
    "CONTAINERFILE",
    "DOCS",
    "RESTRICTED_VOLUME_TYPES",
    "SECURITY_PAGE",
    "blocks",
    "configure",
    "instructions",
    "page_files",
]

DOCS = Path(__file__).resolve().parents[1] / "docs"
CONTAINERFILE = DOCS.parent / "examples" / "Containerfile"
SECURITY_PAGE = DOCS / "security.md"

#: The volume types both Pod Security's restricted level and OpenShift's
#: restricted-v2 allow (recent Pod Security allows ``image`` volumes too);
#: tests/integration/test_docs_security.py asks the API server.
RESTRICTED_VOLUME_TYPES = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
]


def blocks(path: Path, language: str) -> list[str]:
    """The fenced blocks of ``language`` in a page, dedented (they may sit in a list item)."""
    pattern = rf"^( *)```{language}\n(.*?)^\1```"
    return [textwrap.dedent(body) for _, body in re.findall(pattern, path.read_text(), flags=re.M | re.S)]


def configure(source: str, name: str, config: Config | None = None) -> Config:
    """Run hub configuration Python as JupyterHub does (``c`` is the config)."""
    config = config if config is not None else Config()
    code = compile(source, name, "exec")
    exec(code, {"c": config, "get_config": lambda: config})
    return config


def instructions(containerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Containerfile, continuation lines joined,
    runs of white space as one space."""
    text = re.sub(r"^#.*\n", "", containerfile, flags=re.M).replace("\\\n", " ")
    words = [line.split() for line in text.splitlines() if line.strip()]
    return [(name, " ".join(arguments)) for name, *arguments in words]


def page_files() -> dict[str, str]:
    """The blocks of the page that are files, by name."""
    files = {}
    for language in ("yaml", "python"):
        for block in blocks(SECURITY_PAGE, language):
            if match := re.fullmatch(r"# (\S+)", block.splitlines()[0]):
                assert match[1] not in files, f"two blocks are {match[1]}"
                files[match[1]] = block
    return files
