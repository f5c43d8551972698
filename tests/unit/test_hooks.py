"""The modify_pod_hook for plain KubeSpawner: the same pods as ProfileKubeSpawner, the same refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubespawner import KubeSpawner
from tornado import web

from profilespawner import apply_pod_profile
from profilespawner.errors import UserOptionError
from profilespawner.kubemodel import to_json

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir()))
async def test_hook_on_plain_kubespawner_gives_the_same_pod(
    pod_for: Any, case: str, make_spawner: Any
) -> None:
    from ruamel.yaml import YAML

    spec = YAML(typ="safe").load((GOLDEN / case / "case.yaml").read_text())
    files = [str(GOLDEN / case / "profiles.yaml")]
    kwargs = dict(
        user=spec["user"], groups=spec["groups"], image=spec["image"], user_options=spec["user_options"]
    )
    ours = await pod_for(make_spawner(files, **kwargs, **spec["kubespawner"]))
    plain = make_spawner(files, spawner_class=KubeSpawner, **kwargs, **spec["kubespawner"])
    await plain.load_user_options()
    hooked = to_json(await apply_pod_profile(plain, await plain.get_pod_manifest()))
    assert hooked == ours


async def test_the_hook_returns_the_kind_of_pod_it_gets(spawn_profiles: str, make_spawner: Any) -> None:
    spawner = make_spawner([spawn_profiles], spawner_class=KubeSpawner)
    pod = await spawner.get_pod_manifest()
    assert type(await apply_pod_profile(spawner, pod)) is type(pod)
    assert isinstance(await apply_pod_profile(spawner, to_json(pod)), dict)


async def test_the_hook_leaves_kubespawners_own_size_option_alone(
    spawn_profiles: str, make_spawner: Any
) -> None:
    profile_list = [
        {
            "display_name": "Python",
            "slug": "py",
            "profile_options": {
                "size": {"display_name": "Size", "choices": {"l": {"display_name": "L"}}},
                "gpu_type": {"display_name": "GPU", "choices": {"x": {"display_name": "X"}}},
            },
        }
    ]
    spawner = make_spawner(
        [spawn_profiles],
        spawner_class=KubeSpawner,
        profile_list=profile_list,
        user_options={"size": "l", "gpu_type": "x"},  # the default profile's options
    )
    await spawner.load_user_options()
    pod = await apply_pod_profile(spawner, await spawner.get_pod_manifest())
    assert any(v.name == "TEAM" for v in pod.spec.containers[0].env)


async def test_the_hook_answers_an_unknown_size_with_http_400(spawn_profiles: str, make_spawner: Any) -> None:
    """The modify_pod_hook is the other entry point: the same refusal, the same answer."""
    spawner = make_spawner([spawn_profiles], spawner_class=KubeSpawner, user_options={"size": "Medium"})
    with pytest.raises(web.HTTPError) as info:
        await apply_pod_profile(spawner, await spawner.get_pod_manifest())
    assert info.value.status_code == 400
    assert isinstance(info.value.__cause__, UserOptionError)
    assert "choose one of: 'Default', 'Small', 'Large'" in info.value.jupyterhub_message
