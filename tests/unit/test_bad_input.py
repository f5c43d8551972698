"""The bad-input corpus (tests/unit/data/bad): each file is rejected with a clear
message, in bounded memory, and the other sources keep serving spawns."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from profilespawner.errors import ProfileError
from profilespawner.parse import parse_document

CORPUS = Path(__file__).parent / "data" / "bad"
FILES = sorted(p for p in CORPUS.iterdir() if not p.name.endswith(".expect"))
GOOD = "profiles:\n- name: good\n  env: [{name: GOOD, value: 'yes'}]\n"


def expectation(path: Path) -> str:
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.exists():
        return sidecar.read_text().strip()
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <message fragment>'"
    return first.removeprefix("# expect: ")


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_rejected_with_a_clear_message_in_bounded_memory(path: Path) -> None:
    # tracemalloc slows parsing down several times: the large document is only
    # checked for its message, its cost is measured in benchmarks/.
    traced = path.stat().st_size < 64 * 1024
    if traced:
        tracemalloc.start()
    try:
        with pytest.raises(ProfileError) as info:
            parse_document(path.read_bytes(), source=path.name)
        _, peak = tracemalloc.get_traced_memory() if traced else (0, 0)
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith(path.name + ": ")
    assert expectation(path) in message
    assert len(message) < 600
    assert peak < 256 * 1024 * 1024


SMALL_FILES = [p for p in FILES if p.stat().st_size < 64 * 1024]


@pytest.mark.parametrize("path", SMALL_FILES, ids=[p.name for p in SMALL_FILES])
async def test_spawns_go_on_with_the_other_sources(path: Path, make_spawner: Any, write_yaml: Any) -> None:
    good = write_yaml(GOOD, "good.yaml")
    spawner = make_spawner([str(path), good])
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    assert any(v.name == "GOOD" for v in pod.spec.containers[0].env)
