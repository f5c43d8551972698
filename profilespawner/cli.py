"""The ``profilespawner`` command: the parser and the commands, nothing else.

``validate`` checks profile files and ConfigMap manifests
(:mod:`profilespawner.tools.lint`), ``render`` prints the pod a user would get
and ``explain`` why (:mod:`profilespawner.tools.preview`,
:mod:`profilespawner.tools.explain`), ``schema`` prints the JSON Schema. With
``--configmaps`` the three read the profile ConfigMaps from the cluster too,
after the files (:mod:`profilespawner.tools.cluster`), and ``validate
--server-dry-run`` submits the pod of every targeted spawn as a server-side dry
run (:mod:`profilespawner.tools.dryrun`). The hub's settings are those of
``--config``'s ``SingleuserProfiles`` section, read through the traits, else
their defaults (:mod:`profilespawner.tools.settings`); every source is held to
the hub's policy. What is printed is :mod:`profilespawner.tools.output`'s.
Exit status: 0 when all is well, 1 when a source is invalid, the spawn would
fail, the cluster would reject a pod or a setting of ``--config`` is invalid,
2 for a usage error (including a ``--config`` or kubeconfig that cannot be
loaded), 3 when the cluster could not be asked (no answer, credentials, RBAC).
Values of environment variables are not printed unless asked for (``render
--show-values``): they may be credentials. The Kubernetes client and
KubeSpawner are imported by the commands that use them, so that checking a
file stays quick. The ``profilespawner`` program (:func:`program`) is
:func:`main` in a process of its own, with the garbage collector set for a
short life (:mod:`profilespawner.tools.process`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from traitlets import TraitError
from traitlets.config import Config

from ._version import __version__
from .errors import KubeApiError, KubeConfigError, ProfileError
from .model import RANGE_KEYS, ProfileSet
from .parse import load_schema
from .tools.lint import FileReport, Problem, check_file
from .tools.output import (
    HIDDEN,
    count,
    dump_yaml,
    format_explanation,
    format_pods,
    hide_env_values,
    join,
    trials_summary,
    write_report,
)
from .tools.process import imports_done, short_lived
from .tools.settings import (
    hub_settings,
    kubespawner_component_label,
    kubespawner_namespace,
    load_config_file,
    profile_files,
    trait_default,
    with_kubespawner_namespace,
)

if TYPE_CHECKING:
    from .profiles import SingleuserProfiles
    from .sources.kubeapi import ClusterClient
    from .tools.cluster import ClusterProfiles
    from .tools.dryrun import ClusterCheck
    from .tools.pods import NotebookPod
    from .tools.preview import Preview

__all__ = ["build_parser", "main", "program"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CLUSTER = 0, 1, 2, 3

#: Most spawns ``validate --server-dry-run`` tries unless told otherwise.
MAX_COMBINATIONS = 200

#: What jsonschema imports, when installed, to check string ``format``s. The
#: profile schema has no ``format``, and rfc3987-syntax alone takes a second to
#: import (it builds a grammar): the command does without them.
_FORMAT_LIBRARIES = (
    "fqdn",
    "idna",
    "isoduration",
    "jsonpointer",
    "rfc3339_validator",
    "rfc3986_validator",
    "rfc3987",
    "rfc3987_syntax",
    "uri_template",
    "webcolors",
)


class _UsageError(Exception):
    """Bad arguments found after parsing (exit 2)."""


class _ClusterError(Exception):
    """The cluster could not be asked (exit 3)."""


T = TypeVar("T")


# -- parser ---------------------------------------------------------------------------


def _add_cluster_options(cluster: Any, *, namespace_of: str = "and of dry-run pods") -> None:
    """Where the hub's ConfigMaps are, and how to reach the cluster."""
    cluster.add_argument(
        "--namespace",
        "-n",
        metavar="NS",
        help=f"namespace of the ConfigMaps ({namespace_of}); default: SingleuserProfiles.namespace "
        "or KubeSpawner.namespace of --config, else the kubeconfig context's, else 'default'",
    )
    cluster.add_argument(
        "--configmap-name",
        metavar="NAME",
        help=f"SingleuserProfiles.configmap_name ('' for none; default {trait_default('configmap_name')})",
    )
    cluster.add_argument(
        "--label-selector",
        metavar="SELECTOR",
        help=f"SingleuserProfiles.label_selector ('' for none; default {trait_default('label_selector')})",
    )
    cluster.add_argument(
        "--key",
        metavar="KEY",
        help=f"SingleuserProfiles.configmap_key (default {trait_default('configmap_key')})",
    )
    cluster.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="the kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``profilespawner`` command's arguments."""
    parser = argparse.ArgumentParser(
        prog="profilespawner",
        description="Check profile files and ConfigMaps and preview the pods profilespawner makes.",
    )
    parser.add_argument("--version", action="version", version=f"profilespawner {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also log what the hub would log of this (INFO)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    files = argparse.ArgumentParser(add_help=False)
    files.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="profile YAML files, lowest precedence first (default: SingleuserProfiles.files of --config)",
    )
    files.add_argument(
        "--config",
        metavar="PATH",
        help="a jupyterhub_config.py: its KubeSpawner and SingleuserProfiles settings count",
    )
    cluster = files.add_argument_group(
        "profiles in the cluster",
        "read after the FILEs, as the hub reads them; defaults: the SingleuserProfiles settings "
        "of --config, else SingleuserProfiles' defaults",
    )
    cluster.add_argument(
        "--configmaps",
        action="store_true",
        help="also read the profile ConfigMaps from the cluster (named, then labelled by name)",
    )
    _add_cluster_options(cluster)

    validate = commands.add_parser(
        "validate",
        parents=[files],
        help="check profile files; exit 1 if any has an error",
        description="Check profile files (or ConfigMap manifests holding profiles), and with "
        "--configmaps the profile ConfigMaps of the cluster, and report every problem with its line. "
        "Exit 1 if any has an error; warnings (legacy keys ignored) do not fail.",
    )
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: a list of problems (severity, source, profile, field, line, column, problem, message)",
    )
    dry_run = validate.add_argument_group(
        "server-side dry run",
        "submit the pod of every spawn the profiles target (each listed user and group, and any "
        "user; the configured image and each --image; no size and each size, a size with ranges at "
        "its min, default and max) to the API server as a dry run, and report what it would "
        "reject; needs RBAC to create pods",
    )
    dry_run.add_argument(
        "--server-dry-run",
        action="store_true",
        help="try every targeted spawn against the cluster's validation and admission",
    )
    dry_run.add_argument(
        "--image",
        "-i",
        action="append",
        default=[],
        dest="images",
        metavar="IMAGE",
        help="an example image to try as well (repeat); an images pattern no tried image "
        "matches is reported as untested",
    )
    _range_options(
        dry_run,
        "also try every size with a {key} range at this {what} (its other ranges at their defaults)",
    )
    dry_run.add_argument(
        "--max-combinations",
        type=int,
        default=MAX_COMBINATIONS,
        metavar="N",
        help=f"refuse to try more spawns than this (default {MAX_COMBINATIONS})",
    )

    spawn = argparse.ArgumentParser(add_help=False, parents=[files])
    spawn.add_argument("--user", "-u", required=True, help="the JupyterHub user name")
    spawn.add_argument(
        "--group",
        "-g",
        action="append",
        default=[],
        dest="groups",
        metavar="GROUP",
        help="a JupyterHub group of the user (repeat for several)",
    )
    spawn.add_argument("--image", "-i", help="the notebook image (default: the configured/KubeSpawner one)")
    spawn.add_argument("--size", "-s", help="the size the user picks (user_options['size'])")
    spawn.add_argument("--gpu-type", help="the GPU type the user picks (user_options['gpu_type'])")
    _range_options(spawn, "the {what} the user picks within the size's range (user_options['{key}'])")

    render = commands.add_parser(
        "render",
        parents=[spawn],
        help="print the pod KubeSpawner would create, profiles applied",
        description="Print the pod KubeSpawner would create for this spawn, with profiles applied, "
        "as YAML. Exit 1 if the hub would refuse the spawn.",
    )
    render.add_argument(
        "--show-values",
        action="store_true",
        help=f"print the values of environment variables (default: {HIDDEN}, they may be secrets)",
    )
    commands.add_parser(
        "explain",
        parents=[spawn],
        help="which profiles apply to a spawn, and who set each field",
        description="Explain a spawn: which profiles apply and why, which do not and why, the size, "
        "and which profile or size set each field of the pod. Values of environment variables "
        "are never printed.",
    )
    pods = commands.add_parser(
        "pods",
        help="the hub's notebook pods: user, size, profiles, and whether they are up to date",
        description="List the notebook pods of the hub's namespace (those KubeSpawner labels "
        "component=singleuser-server, or the KubeSpawner.component_label of --config) with their "
        "user, server, size, GPU type and profiles, as each pod records them, and whether each is "
        "up to date: every source it recorded still at the recorded version, and no source added "
        "since, compared with the FILEs (or SingleuserProfiles.files of --config) and the profile "
        "ConfigMaps as the hub would read them now.",
    )
    pods.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="the hub's profile files, as it reads them (default: SingleuserProfiles.files of --config)",
    )
    pods.add_argument(
        "--config",
        metavar="PATH",
        help="a jupyterhub_config.py: its KubeSpawner and SingleuserProfiles settings count",
    )
    pods.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: a list of pods (pod, user, server, state, profiles, size, gpu_type, sources, "
        "changed, gone, added, unknown)",
    )
    _add_cluster_options(
        pods.add_argument_group(
            "the cluster",
            "defaults: the SingleuserProfiles settings of --config, else SingleuserProfiles' defaults",
        ),
        namespace_of="and of the pods",
    )
    pods.set_defaults(configmaps=True)
    commands.add_parser("schema", help="print the JSON Schema of the profile format")
    return parser


_RANGE_OPTIONS = (("cpu", "CPU", "cores or a quantity: 2, 1500m"), ("memory", "MEMORY", "a quantity: 8Gi"))


def _range_options(parser: Any, text: str) -> None:
    """``--cpu``, ``--memory``, ``--gpu``: values within a size's ranges."""
    for key, metavar, what in (*_RANGE_OPTIONS, ("gpu", "N", "number of GPUs")):
        parser.add_argument(f"--{key}", metavar=metavar, help=text.format(key=key, what=what))


def _range_values(args: argparse.Namespace) -> dict[str, str]:
    """The ``--cpu``/``--memory``/``--gpu`` given."""
    return {key: value for key in RANGE_KEYS if (value := getattr(args, key, None)) is not None}


# -- the hub's settings and the cluster ------------------------------------------------


@dataclass(frozen=True)
class _Hub:
    """The hub a command plays: its configuration and ``SingleuserProfiles`` settings."""

    config: Config | None
    settings: SingleuserProfiles
    key: str  # the ConfigMap key: --key, else the setting


def _hub(args: argparse.Namespace) -> _Hub:
    """``--config`` loaded and its settings checked (``TraitError``: exit 1)."""
    config = None
    if args.config is not None:
        try:
            config = load_config_file(args.config)
        except Exception as e:  # anything a jupyterhub_config.py may raise
            raise _UsageError(f"cannot load {args.config}: {type(e).__name__}: {e}") from None
    settings = hub_settings(config)
    return _Hub(config, settings, str(args.key) if args.key is not None else settings.configmap_key)


def _files(args: argparse.Namespace, hub: _Hub, *, cluster: bool = False) -> list[str]:
    files = profile_files(args.files, hub.config)
    if not files and not cluster:
        raise _UsageError(
            "no profile files: give FILE arguments, or --config with SingleuserProfiles.files, "
            "or --configmaps"
        )
    return files


def _check(path: str, hub: _Hub) -> FileReport:
    """Check one file as the hub would: its mount path, policy and ConfigMap key;
    logged as the hub logs it (shown with ``-v``)."""
    settings = hub.settings
    log = logging.getLogger("profilespawner")
    return check_file(
        path,
        default_mount_path=settings.default_mount_path,
        configmap_key=hub.key,
        policy=settings.policy,
        log=log if log.isEnabledFor(logging.INFO) else None,
    )


@dataclass(frozen=True)
class _ClusterSettings:
    """Where the cluster's profiles are, from the arguments and the hub's settings."""

    kubeconfig: str | None
    namespace: str  # "" = the kubeconfig context's, else "default"
    configmap_name: str
    label_selector: str
    read_configmaps: bool


def _cluster_settings(args: argparse.Namespace, hub: _Hub) -> _ClusterSettings | None:
    """The cluster settings, or None when the command does not talk to a cluster."""
    dry_run = bool(getattr(args, "server_dry_run", False))
    if not args.configmaps:
        for option, value in (
            ("--configmap-name", args.configmap_name),
            ("--label-selector", args.label_selector),
        ):
            if value is not None:
                raise _UsageError(f"{option} needs --configmaps")
        if not dry_run:
            for option, value in (("--namespace", args.namespace), ("--kubeconfig", args.kubeconfig)):
                if value is not None:
                    hint = " or --server-dry-run" if args.command == "validate" else ""
                    raise _UsageError(f"{option} needs --configmaps{hint}")
            return None
    settings = hub.settings
    name = args.configmap_name if args.configmap_name is not None else settings.configmap_name
    selector = args.label_selector if args.label_selector is not None else settings.label_selector
    if args.configmaps and not (name or selector) and args.command != "pods":
        raise _UsageError(
            "--configmaps: nothing to read, the ConfigMap name and the label selector are both empty"
        )
    return _ClusterSettings(
        kubeconfig=args.kubeconfig,
        namespace=args.namespace or settings.namespace or kubespawner_namespace(hub.config),
        configmap_name=name,
        label_selector=selector,
        read_configmaps=args.configmaps and bool(name or selector),
    )


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that talks to the cluster; its failures become exit statuses."""
    try:
        return asyncio.run(coroutine)
    except KubeConfigError as e:
        raise _UsageError(str(e)) from None
    except KubeApiError as e:
        raise _ClusterError(str(e)) from None


async def _connect(cluster: _ClusterSettings) -> tuple[ClusterClient, str]:
    """A client and the namespace to use."""
    from .sources.kubeapi import connect

    client = await connect(cluster.kubeconfig)
    return client, cluster.namespace or client.namespace or "default"


def _invalid_configuration(error: TraitError) -> str:
    # traitlets ends with ", not the <type> <value>": the value may be a secret
    reason = str(error).split(", not the ", 1)[0]
    return f"the configuration is not valid: {reason}"


# -- validate ---------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    if not args.server_dry_run:
        needs = [f"--{key}" for key in _range_values(args)]
        if args.images:
            needs.insert(0, "--image")
        if args.max_combinations != MAX_COMBINATIONS:
            needs.append("--max-combinations")
        if needs:
            raise _UsageError(f"{needs[0]} needs --server-dry-run")
    hub = _hub(args)
    cluster = _cluster_settings(args, hub)
    files = _files(args, hub, cluster=cluster is not None and cluster.read_configmaps)
    reports = [_check(path, hub) for path in files]
    try:
        check = _run(_ask_cluster(args, cluster, hub, reports)) if cluster is not None else None
    except TraitError as e:  # the dry run builds spawners with --config's settings
        sys.stderr.write(f"error: {_invalid_configuration(e)}\n")
        return EXIT_FAILED
    if check is not None and check.too_many is not None:
        raise _UsageError(
            f"--server-dry-run: the profiles target {check.too_many} spawns (users and groups x images x "
            f"sizes), more than --max-combinations {args.max_combinations}; raise it, or give fewer "
            "--image examples"
        )
    configmaps = check.configmaps if check is not None else None
    if configmaps is not None:
        reports += configmaps.reports
    dry_run = _trial_problems(check) if check is not None else []
    problems = [p for r in reports for p in r.problems] + dry_run
    failed = any(r.errors for r in reports) or any(p.severity == "error" for p in dry_run)
    if args.format == "json":
        json.dump([p.as_dict() for p in problems], out, indent=2)
        out.write("\n")
        return EXIT_FAILED if failed else EXIT_OK
    for report in reports[: len(files)]:
        write_report(report, out)
    if configmaps is not None:
        if configmaps.missing:
            out.write(f"{configmaps.namespace}/{configmaps.missing}: no such ConfigMap (the hub skips it)\n")
        if not configmaps.reports:
            out.write(f"{configmaps.namespace}: no profile ConfigMaps\n")
        for report in configmaps.reports:
            write_report(report, out)
    if check is not None and check.skipped:
        out.write(f"{_dry_run_source(check.namespace)}: not tried, the profiles have errors\n")
    elif check is not None and check.trials is not None:
        for problem in dry_run:
            out.write(f"{problem}\n")
        out.write(trials_summary(check) + "\n")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors or warnings:
        where = [count(len(files), "file")] if files or configmaps is None else []
        if configmaps is not None:
            where.append(count(len(configmaps.reports), "ConfigMap"))
        if dry_run:
            where.append("the server dry run")
        out.write(f"{count(errors, 'error')}, {count(warnings, 'warning')} in {join(where)}\n")
    return EXIT_FAILED if failed else EXIT_OK


def _trial_problems(check: ClusterCheck) -> list[Problem]:
    from .tools.dryrun import trial_problems

    return trial_problems(check)


def _dry_run_source(namespace: str) -> str:
    from .tools.dryrun import dry_run_source

    return dry_run_source(namespace)


async def _ask_cluster(
    args: argparse.Namespace, cluster: _ClusterSettings, hub: _Hub, file_reports: list[FileReport]
) -> ClusterCheck:
    from .tools.dryrun import ConfigMapSettings, check_cluster

    client, namespace = await _connect(cluster)
    try:
        query = (
            ConfigMapSettings(
                cluster.configmap_name, cluster.label_selector, hub.key, hub.settings.default_mount_path
            )
            if cluster.read_configmaps
            else None
        )
        return await check_cluster(
            client.api,
            namespace=namespace,
            file_reports=file_reports,
            configmaps=query,
            dry_run=args.server_dry_run,
            images=args.images,
            range_values=_range_values(args),
            max_combinations=args.max_combinations,
            config=with_kubespawner_namespace(hub.config, namespace),
            policy=hub.settings.policy,
        )
    finally:
        await client.close()


# -- render and explain -----------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """The valid profile sets of a spawn, in precedence order, and the hub's configuration."""

    config: Config | None
    profile_sets: tuple[ProfileSet, ...]


async def _hub_configmaps(api: Any, namespace: str, cluster: _ClusterSettings, hub: _Hub) -> ClusterProfiles:
    """The profile ConfigMaps of ``namespace``, read as the hub reads them."""
    from .tools.cluster import read_configmaps

    return await read_configmaps(
        api,
        namespace=namespace,
        configmap_name=cluster.configmap_name,
        label_selector=cluster.label_selector,
        key=hub.key,
        default_mount_path=hub.settings.default_mount_path,
        policy=hub.settings.policy,
    )


async def _read_for_spawn(cluster: _ClusterSettings, hub: _Hub) -> ClusterProfiles:
    client, namespace = await _connect(cluster)
    try:
        return await _hub_configmaps(client.api, namespace, cluster, hub)
    finally:
        await client.close()


def _prepare(args: argparse.Namespace) -> _Prepared | int:
    """Config and profile sets for render/explain; EXIT_FAILED when a source is invalid."""
    hub = _hub(args)
    cluster = _cluster_settings(args, hub)
    files = _files(args, hub, cluster=cluster is not None)
    config = hub.config
    invalid = False
    reports = []
    for path in files:
        report = _check(path, hub)
        reports.append(report)
        for problem in report.problems:
            sys.stderr.write(f"{problem}\n")
        if report.errors:
            invalid = True
            sys.stderr.write(f"error: {path} is invalid: the hub would reject it and use none of it\n")
    if cluster is not None:
        configmaps = _run(_read_for_spawn(cluster, hub))
        config = with_kubespawner_namespace(config, configmaps.namespace)
        for report in configmaps.reports:
            reports.append(report)
            for problem in report.problems:
                sys.stderr.write(f"{problem}\n")
            if report.errors:
                invalid = True
                sys.stderr.write(
                    f"error: ConfigMap {report.source} is invalid: the hub rejects it "
                    "(and keeps its last valid version, which this command cannot know)\n"
                )
    if invalid:
        return EXIT_FAILED
    return _Prepared(config, tuple(r.profile_set for r in reports if r.profile_set is not None))


def _preview(args: argparse.Namespace, prepared: _Prepared) -> Preview | int:
    from .tools.preview import preview_spawn

    try:
        return asyncio.run(
            preview_spawn(
                (),
                user=args.user,
                groups=args.groups,
                image=args.image,
                size=args.size,
                gpu_type=args.gpu_type,
                config=prepared.config,
                **_range_values(args),
                profile_sets=prepared.profile_sets,
            )
        )
    except ProfileError as e:
        sys.stderr.write(f"error: the hub would refuse this spawn for {args.user}: {e}\n")
        return EXIT_FAILED
    except TraitError as e:
        sys.stderr.write(f"error: {_invalid_configuration(e)}\n")
        return EXIT_FAILED


def cmd_render(args: argparse.Namespace, out: TextIO) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    preview = _preview(args, prepared)
    if isinstance(preview, int):
        return preview
    pod = preview.pod if args.show_values else hide_env_values(preview.pod)
    out.write(dump_yaml(pod))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    preview = _preview(args, prepared)
    if isinstance(preview, int):
        return preview
    out.write(format_explanation(preview.explanation))
    return EXIT_OK


# -- pods ---------------------------------------------------------------------------------


def cmd_pods(args: argparse.Namespace, out: TextIO) -> int:
    hub = _hub(args)
    cluster = _cluster_settings(args, hub)
    assert cluster is not None  # pods always talks to the cluster
    # A missing file is no source, for the hub as here.
    reports = [_check(path, hub) for path in profile_files(args.files, hub.config) if os.path.exists(path)]
    listing = _run(_read_pods(cluster, hub, reports))
    for report in listing.reports:
        if report.errors:
            sys.stderr.write(
                f"note: {report.source} is invalid now: the hub keeps its last valid version, "
                "which this command cannot know (pods that recorded it: state unknown)\n"
            )
    if args.format == "json":
        json.dump([pod.as_dict() for pod in listing.pods], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        sets = [report.profile_set for report in listing.reports if report.profile_set is not None]
        budgets = ProfileSet.combine(sets).budgets
        out.write(format_pods(listing.pods, namespace=listing.namespace, budgets=budgets))
    return EXIT_OK


@dataclass(frozen=True)
class _Pods:
    """The notebook pods of a namespace, and the sources they were compared with."""

    namespace: str
    pods: list[NotebookPod]
    reports: list[FileReport]


async def _read_pods(cluster: _ClusterSettings, hub: _Hub, file_reports: list[FileReport]) -> _Pods:
    from .tools.pods import NOTEBOOK_COMPONENT, notebook_pods, sources_in_use

    client, namespace = await _connect(cluster)
    try:
        reports = list(file_reports)
        if cluster.read_configmaps:
            reports += (await _hub_configmaps(client.api, namespace, cluster, hub)).reports
        component = kubespawner_component_label(hub.config) or NOTEBOOK_COMPONENT
        pods = await notebook_pods(
            client.api,
            namespace,
            sources_in_use(reports),
            component=component,
            gpu_resource_name=hub.settings.gpu_resource_name,
        )
        return _Pods(namespace, pods, reports)
    finally:
        await client.close()


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    json.dump(load_schema(), out, indent=2)
    out.write("\n")
    return EXIT_OK


# -- entry point ----------------------------------------------------------------------

_COMMANDS = {
    "validate": cmd_validate,
    "render": cmd_render,
    "explain": cmd_explain,
    "pods": cmd_pods,
    "schema": cmd_schema,
}


def _import_jsonschema_without_formats() -> None:
    """Import jsonschema without the libraries it checks ``format`` with.

    The command owns its process, so it may: jsonschema's format checker in
    this process then checks fewer formats, and nothing else changes. A
    process that imported jsonschema already (a hub) keeps it as it is.
    """
    if "jsonschema" in sys.modules:
        return
    hidden = [name for name in _FORMAT_LIBRARIES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _import_for(args: argparse.Namespace) -> None:
    """Import what the command will need, before it starts: jsonschema (without
    its format libraries) and, for the commands that build pods, KubeSpawner
    with the Kubernetes client, the bulk of a start. The commands still import
    what they use where they use it; this only moves the imports ahead, where
    the program's collector is off (:mod:`.tools.process`)."""
    if args.command == "schema":
        return
    _import_jsonschema_without_formats()
    if args.command in ("render", "explain") or getattr(args, "server_dry_run", False):
        importlib.import_module(".tools.preview", __package__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s: %(name)s: %(message)s", stream=sys.stderr
    )
    # The files' problems and a refused spawn are printed once, by us; the hub's
    # log lines would repeat them: only -v shows them, and only profilespawner's
    # (the offline spawner logs as "profilespawner.spawner"), not the INFO of
    # the libraries (KubeSpawner's "traitlets", alembic, ...).
    logging.getLogger("profilespawner").setLevel(logging.INFO if args.verbose else logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    _import_for(args)
    imports_done()
    try:
        return _COMMANDS[args.command](args, sys.stdout)
    except _UsageError as e:
        parser.error(str(e))
    except _ClusterError as e:
        sys.stderr.write(f"error: cannot ask the cluster: {e}\n")
        return EXIT_CLUSTER
    except TraitError as e:  # a setting of --config the hub would refuse too
        sys.stderr.write(f"error: {_invalid_configuration(e)}\n")
        return EXIT_FAILED
    except BrokenPipeError:
        # the reader went away (| head): not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    return EXIT_USAGE  # pragma: no cover - parser.error exits


def program() -> int:
    """The ``profilespawner`` program (the console script and ``python -m
    profilespawner``): :func:`main` as the whole life of its process, the garbage
    collector set for it (:func:`~profilespawner.tools.process.short_lived`)."""
    with short_lived():
        return main()
