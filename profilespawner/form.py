"""The spawn form's size (and GPU type) choice, as HTML: pure, every value escaped.

JupyterHub inserts the options form into its own page as markup, so names and
descriptions coming from ConfigMaps are escaped here. The field names are the
``user_options`` keys: ``size`` and ``gpu_type``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from .model import NO_SIZE, GpuType, Size

__all__ = ["render_choices", "size_summary"]


def size_summary(size: Size) -> str:
    """One line of what a size gives: its description, else its resources."""
    if size.description:
        return size.description
    resources = size.settings.resources
    parts = []
    for kind, word in (("requests", "guaranteed"), ("limits", "up to")):
        values = resources.get(kind) or {}
        shown = [f"{values[k]} {label}" for k, label in (("cpu", "CPU"), ("memory", "memory")) if k in values]
        if shown:
            parts.append(f"{word} {', '.join(shown)}")
    if size.settings.gpu:
        parts.append(f"{size.settings.gpu} GPU")
    return "; ".join(parts)


def _option(value: str, label: str, selected: bool) -> str:
    mark = " selected" if selected else ""
    return f'<option value="{escape(value)}"{mark}>{escape(label)}</option>'


def render_choices(
    sizes: Sequence[Size],
    gpu_types: Mapping[str, GpuType],
    *,
    selected_size: object = None,
    selected_gpu_type: object = None,
) -> str:
    """The form fields for the sizes this user may pick (and the GPU types).

    Returns ``""`` when there is nothing to choose.
    """
    html = []
    if sizes:
        options = [_option("", "Default", selected_size in (None, "", NO_SIZE))]
        for size in sizes:
            summary = size_summary(size)
            label = f"{size.name} ({summary})" if summary else size.name
            options.append(_option(size.name, label, selected_size == size.name))
        html.append(
            '<div class="form-group mb-3 profilespawner-size">'
            '<label class="form-label" for="profilespawner-size">Server size</label>'
            '<select class="form-select form-control" id="profilespawner-size" name="size">'
            + "".join(options)
            + "</select></div>"
        )
    if gpu_types:
        options = [_option("", "Any available", selected_gpu_type in (None, ""))]
        for name, gpu_type in gpu_types.items():
            label = f"{name} ({gpu_type.description})" if gpu_type.description else name
            options.append(_option(name, label, selected_gpu_type == name))
        html.append(
            '<div class="form-group mb-3 profilespawner-gpu-type">'
            '<label class="form-label" for="profilespawner-gpu-type">GPU type (with a GPU)</label>'
            '<select class="form-select form-control" id="profilespawner-gpu-type" name="gpu_type">'
            + "".join(options)
            + "</select></div>"
        )
    return "".join(html)
