"""SingleuserProfiles: its settings, the one shared instance, the errors of the tree (not HTTP)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import weakref
from typing import Any

import pytest
from tornado import web
from traitlets import TraitError
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.errors import UserOptionError
from profilespawner.tools.offline import offline_spawner

from .conftest import profiles_config


async def test_the_profile_engine_refuses_with_its_own_error_not_http(
    spawn_profiles: str, make_spawner: Any
) -> None:
    """Only the entry points speak HTTP: SingleuserProfiles raises the error of the tree."""
    spawner = make_spawner([spawn_profiles], user_options={"size": "Medium"})
    with pytest.raises(UserOptionError, match="size 'Medium' is not available") as info:
        await spawner.singleuser_profiles.resolve(spawner)
    assert not isinstance(info.value, web.HTTPError)


async def test_one_shared_instance_per_process(spawn_profiles: str, make_spawner: Any) -> None:
    files = [spawn_profiles]
    a, b = make_spawner(files, user="a"), make_spawner(files, user="b")
    assert a.singleuser_profiles is b.singleuser_profiles
    first = a.singleuser_profiles
    assert first is SingleuserProfiles.instance()
    SingleuserProfiles.clear_instance()
    assert make_spawner(files).singleuser_profiles is not first


@pytest.mark.parametrize(
    ("trait", "value", "message"),
    [
        (
            "default_mount_path",
            "relative/path",
            "SingleuserProfiles.default_mount_path must be an absolute path",
        ),
        (
            "gpu_resource_name",
            "not a name",
            "SingleuserProfiles.gpu_resource_name must be a Kubernetes resource name",
        ),
    ],
)
def test_trait_validation_names_the_trait(trait: str, value: str, message: str) -> None:

    with pytest.raises(TraitError, match=message):
        SingleuserProfiles(**{trait: value})


def test_every_trait_is_configurable_and_documented() -> None:
    for name, trait in SingleuserProfiles.class_traits(config=True).items():
        help_text = trait.help or ""
        assert "versionadded" in help_text and "efault" in help_text, name


@pytest.mark.parametrize(
    ("trait", "value", "fragment"),
    [
        ("configmap_name", "Bad_Name", "SingleuserProfiles.configmap_name must be a ConfigMap name"),
        ("namespace", "a.b", "SingleuserProfiles.namespace must be a namespace name"),
        ("configmap_key", "a/b", "SingleuserProfiles.configmap_key must be a ConfigMap key"),
        ("initial_load_timeout", -1.0, "SingleuserProfiles.initial_load_timeout must be >= 0"),
        ("on_api_unavailable", "retry", "SingleuserProfiles.on_api_unavailable must be 'continue' or 'fail'"),
        ("max_cache_age", 0.0, "SingleuserProfiles.max_cache_age must be > 0"),
    ],
)
def test_bad_settings_name_the_trait(trait: str, value: Any, fragment: str) -> None:
    config = Config()
    setattr(config.SingleuserProfiles, trait, value)
    with pytest.raises(TraitError, match=fragment):
        SingleuserProfiles(config=config)


def test_settings_defaults() -> None:
    profiles = SingleuserProfiles()
    assert (profiles.initial_load_timeout, profiles.on_api_unavailable, profiles.max_cache_age) == (
        5.0,
        "continue",
        600.0,
    )
    assert profiles.reads_configmaps


async def test_without_configmap_settings_nothing_talks_to_kubernetes(
    make_spawner: Any, write_yaml: Any
) -> None:
    spawner = make_spawner([write_yaml("profiles: [{name: from-file}]")])
    profiles = spawner.singleuser_profiles
    assert not profiles.reads_configmaps
    profile_set = await profiles.load_profiles(spawner)
    assert [p.name for p in profile_set.profiles] == ["from-file"]
    assert profiles._configmaps is None


def test_the_settings_load_without_the_engine() -> None:
    """Importing the settings (what the command line reads) imports neither the
    Kubernetes client nor the applier: the first spawn does."""
    probe = (
        "import sys, profilespawner.profiles; "
        "print(sorted(m for m in ('kubernetes_asyncio', 'aiohttp', 'kubespawner', 'profilespawner.apply', "
        "'profilespawner.sources.configmaps', 'profilespawner.sources.kubeapi') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]"


async def test_an_edited_file_replaces_the_set_and_the_old_one_is_freed(write_yaml: Any) -> None:
    """The new set is combined and indexed in a worker thread, and the old one
    freed in another, a little at a time: neither stalls the hub's loop."""
    path = write_yaml("profiles:\n- name: first\n  env: [{name: A, value: '1'}]\n")
    config = profiles_config([path])
    config.SingleuserProfiles.file_check_interval = 0.0
    spawner = offline_spawner(ProfileKubeSpawner, user="alice", config=config)
    profiles = spawner.singleuser_profiles
    assert [p.name for p in (await profiles.resolve(spawner)).profiles] == ["first"]
    old = weakref.ref((await profiles.load_profiles(spawner)).profiles[0])

    write_yaml("profiles:\n- name: second\n  env: [{name: A, value: '2'}]\n")
    new = await profiles.load_profiles(spawner)
    assert [p.name for p in new.profiles] == ["second"]
    assert await profiles.load_profiles(spawner) is new
    assert [p.name for p in (await profiles.resolve(spawner)).profiles] == ["second"]
    for _ in range(200):
        if old() is None:
            break
        await asyncio.sleep(0.01)
    assert old() is None, "the old set is freed"
