"""The spawn form's choices, as HTML, and the ``user_options`` its fields give: pure, every value escaped.

JupyterHub inserts the options form into its own page as markup, so names and
descriptions coming from ConfigMaps are escaped here. The fields are the size
(``size``), the GPU type (``gpu_type``) and, for every size with ranges, one
number input per range (:func:`range_field`: ``size-range-cpu--Custom``,
bounds, default and step in the browser; memory in Gi). A few lines of inline
JavaScript show only the inputs of the selected size (the others are hidden
and disabled, so they are neither checked nor sent); without JavaScript every
size's inputs show, grouped by size, and :func:`choices_from_form` -- the one
place that turns these fields into ``user_options`` -- reads only those of
the chosen size. The server checks every value again (:mod:`.ranges`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Context, Decimal, localcontext
from html import escape
from typing import Any

from . import quantities
from .model import NO_SIZE, RANGE_KEYS, GpuType, Range, Size

__all__ = [
    "CHOICE_FIELDS",
    "RANGE_FIELD_PREFIX",
    "choices_from_form",
    "is_choice_field",
    "range_field",
    "render_budgets_left",
    "render_choices",
    "size_label",
    "size_summary",
]

#: The fields of the form named as the ``user_options`` keys they set.
CHOICE_FIELDS = ("size", "gpu_type")

#: What the name of every range input starts with (see :func:`range_field`).
RANGE_FIELD_PREFIX = "size-range-"

#: The unit each range input counts in: cores, GiB, GPUs.
_FORM_UNITS = {"cpu": Decimal(1), "memory": Decimal(2**30), "gpu": Decimal(1)}
_INPUT_LABELS = {"cpu": "CPU cores", "memory": "Memory", "gpu": "GPUs"}
# A number as a browser's number input sends it: no unit, no exponent.
_PLAIN_NUMBER = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)$")
_EXACT = Context(prec=80)

# Shows the range inputs of the selected size only; the others are disabled,
# so that the browser neither checks nor sends them.
_SCRIPT = """<script>
(function () {
  var select = document.getElementById("profilespawner-size");
  var groups = document.querySelectorAll("fieldset.profilespawner-ranges");
  if (!select) { return; }
  function show() {
    for (var i = 0; i < groups.length; i++) {
      var chosen = groups[i].getAttribute("data-size") === select.value;
      groups[i].hidden = !chosen;
      groups[i].disabled = !chosen;
    }
  }
  select.addEventListener("change", show);
  show();
})();
</script>"""


def range_field(size: str, key: str) -> str:
    """The name of the input of ``size``'s ``key`` range (``cpu``, ``memory``, ``gpu``)."""
    return f"{RANGE_FIELD_PREFIX}{key}--{size}"


def is_choice_field(name: str) -> bool:
    """Whether a form field is one of this form's (not KubeSpawner's)."""
    return name in CHOICE_FIELDS or name.startswith(RANGE_FIELD_PREFIX)


def choices_from_form(formdata: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The ``user_options`` the fields of :func:`render_choices` give: ``size``
    and ``gpu_type`` when not empty, and the range values entered for the
    chosen size (memory in Gi, as the form asks for it); empty fields give
    nothing (the size's defaults apply)."""

    def first(name: str) -> str:
        values = formdata.get(name) or [""]
        return str(values[0])

    options = {key: first(key) for key in CHOICE_FIELDS if first(key)}
    size = options.get("size", "")
    if size and size != NO_SIZE:
        for key in RANGE_KEYS:
            value = first(range_field(size, key)).strip()
            if key == "memory" and _PLAIN_NUMBER.match(value):
                value += "Gi"
            if value:
                options[key] = value
    return options


def _words(key: str, allowed: Range) -> str:
    low, high = _bound_texts(key, allowed)
    if key == "gpu":
        many = "GPU" if allowed.maximum == 1 else "GPUs"
        if allowed.minimum == 0:
            return f"up to {high} {many}"
        return f"{high} {many}" if low == high else f"{low}–{high} {many}"
    what = "CPU" if key == "cpu" else "memory"
    return f"{high} {what}" if low == high else f"{low}–{high} {what}"


def size_summary(size: Size) -> str:
    """One line of what a size gives: its ranges, then its description, else its resources."""
    if size.ranges:
        words = ", ".join(_words(k, r) for k, r in size.ranges.items() if k != "gpu" or r.maximum > 0)
        return f"{words} ({size.description})" if size.description else words
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


def size_label(size: Size) -> str:
    """How the size reads in the form: ``Custom: 1–16 CPU, 2Gi–64Gi memory,
    up to 4 GPUs``, ``Small (guaranteed 1 CPU, ...)``."""
    summary = size_summary(size)
    if not summary:
        return size.name
    return f"{size.name}: {summary}" if size.ranges else f"{size.name} ({summary})"


def _option(value: str, label: str, selected: bool) -> str:
    mark = " selected" if selected else ""
    return f'<option value="{escape(value)}"{mark}>{escape(label)}</option>'


def _bound_texts(key: str, allowed: Range) -> tuple[str, str]:
    """A range's bounds as the form says them: cores (``0.5``), memory as a
    quantity (``512Mi``, ``64Gi``), GPUs."""
    if key == "memory":
        return quantities.canonical(key, allowed.minimum), quantities.canonical(key, allowed.maximum)
    return _plain(allowed.minimum), _plain(allowed.maximum)


def _in_form_units(key: str, amount: Decimal) -> Decimal:
    with localcontext(_EXACT):
        return amount / _FORM_UNITS[key]


def _plain(number: Decimal) -> str:
    """A number as a number input takes it: ``2``, ``0.5``, never ``5E-1``."""
    with localcontext(_EXACT):
        return format(number.normalize(), "f")


def _step(key: str, allowed: Range, values: Sequence[Decimal]) -> str:
    """The largest sensible step from ``min`` that reaches every value of ``values``
    (the browser refuses a value off the step); ``any`` when none does."""
    low = _in_form_units(key, allowed.minimum)
    if key == "gpu":
        candidates = ["1"]
    elif key == "cpu":
        candidates = ["0.5", "0.1"] if low >= 1 else ["0.1"]
        candidates += ["0.01", "0.001"]
    else:
        candidates = ["1", "0.5", "0.25"] if low >= 1 else ["0.25"]
    with localcontext(_EXACT):
        for step in candidates:
            if all((value - low) % Decimal(step) == 0 for value in values):
                return step
    return "any"


def _previous(key: str, allowed: Range, value: Any) -> Decimal | None:
    """A value the user chose before, when it is still a valid choice."""
    if value is None or value == "":
        return None
    try:
        amount = quantities.read(key, value)
    except ValueError:
        return None
    return amount if allowed.minimum <= amount <= allowed.maximum else None


def _range_inputs(index: int, size: Size, previous: Mapping[str, Any]) -> str:
    rows = []
    for key, allowed in size.ranges.items():
        amount = _previous(key, allowed, previous.get(key))
        value = _in_form_units(key, allowed.default if amount is None else amount)
        low = _in_form_units(key, allowed.minimum)
        high = _in_form_units(key, allowed.maximum)
        step = _step(key, allowed, [value, _in_form_units(key, allowed.default)])
        low_text, high_text = _bound_texts(key, allowed)
        bounds = low_text if low == high else f"{low_text}–{high_text}"
        input_id = f"profilespawner-range-{index}-{key}"
        field = (
            f'<input class="form-control" type="number" id="{input_id}" '
            f'name="{escape(range_field(size.name, key))}" min="{_plain(low)}" max="{_plain(high)}" '
            f'step="{step}" value="{_plain(value)}">'
        )
        if key == "memory":
            field = f'<div class="input-group">{field}<span class="input-group-text">Gi</span></div>'
        rows.append(
            f'<div class="mb-2"><label class="form-label" for="{input_id}">'
            f"{_INPUT_LABELS[key]} ({bounds})</label>{field}</div>"
        )
    return (
        f'<fieldset class="form-group mb-3 profilespawner-ranges" data-size="{escape(size.name)}">'
        f'<legend class="form-label fs-6">{escape(size.name)}: choose your resources</legend>'
        + "".join(rows)
        + "</fieldset>"
    )


def render_choices(
    sizes: Sequence[Size],
    gpu_types: Mapping[str, GpuType],
    *,
    selected_size: object = None,
    selected_gpu_type: object = None,
    selected_values: Mapping[str, Any] | None = None,
) -> str:
    """The form fields for the sizes this user may pick, the inputs of their
    ranges, and the GPU types.

    ``selected_values`` (``user_options``) prefill the range inputs of the
    selected size, when they are still valid. Returns ``""`` when there is
    nothing to choose.
    """
    html = []
    if sizes:
        options = [_option("", "Default", selected_size in (None, "", NO_SIZE))]
        for size in sizes:
            options.append(_option(size.name, size_label(size), selected_size == size.name))
        html.append(
            '<div class="form-group mb-3 profilespawner-size">'
            '<label class="form-label" for="profilespawner-size">Server size</label>'
            '<select class="form-select form-control" id="profilespawner-size" name="size">'
            + "".join(options)
            + "</select></div>"
        )
        ranged = [(index, size) for index, size in enumerate(sizes) if size.ranges]
        for index, size in ranged:
            previous = (selected_values or {}) if selected_size == size.name else {}
            html.append(_range_inputs(index, size, previous))
        if ranged:
            html.append(_SCRIPT)
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


def render_budgets_left(lines: Sequence[str]) -> str:
    """What the user's budgets have left (one line per budget, from
    :func:`profilespawner.budgets.left_text`), shown next to the sizes;
    ``""`` when no budget covers the user."""
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return (
        '<div class="form-text mb-3 profilespawner-budgets">'
        f'<span class="form-label">Your budgets</span><ul class="mb-0">{items}</ul></div>'
    )
