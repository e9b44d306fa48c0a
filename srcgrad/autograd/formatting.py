"""Render NumPy arrays the way PyTorch's format prints tensors.

:func:`format_tensor` produces the text of ``repr(tensor)`` for the data of a
Tensor-mode value: the same number formatting (fixed or scientific notation
with a shared column width), the same nesting and line wrapping, the same
summarization of large arrays and the same placement of keyword suffixes such
as ``dtype=...``, ``grad_fn=<...>`` or ``requires_grad=True``.

:func:`set_printoptions` changes the module-level options used by every call,
with the same meaning and defaults as in PyTorch's format.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

__all__ = [
    "format_tensor",
    "get_printoptions",
    "printoptions",
    "set_printoptions",
]


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_OPTIONS = _PrintOptions()


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    sci_mode: bool | None = None,
    *,
    profile: str | None = None,
) -> None:
    """Set the options used by :func:`format_tensor`.

    Args:
        precision: digits after the decimal point for floating values (default 4).
        threshold: arrays with more elements than this are summarized (default 1000).
        edgeitems: items kept at the start and end of each summarized dimension
            (default 3).
        linewidth: characters per line used for line breaks (default 80).
        sci_mode: ``True`` forces scientific notation, ``False`` disables it and
            ``None`` lets the formatter choose. Like PyTorch, this option is reset
            to ``None`` by every call that does not pass it.
        profile: ``"default"``, ``"short"`` or ``"full"``; sets precision,
            threshold, edgeitems and linewidth first, then the explicit
            arguments override it.
    """
    if profile is not None:
        try:
            preset = _PROFILES[profile]
        except KeyError:
            raise ValueError(
                f"unknown print profile {profile!r}; expected one of {sorted(_PROFILES)}"
            ) from None
        for name, value in preset.items():
            setattr(_OPTIONS, name, value)
    if precision is not None:
        _OPTIONS.precision = precision
    if threshold is not None:
        _OPTIONS.threshold = threshold
    if edgeitems is not None:
        _OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTIONS.linewidth = linewidth
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, object]:
    """Return the current print options as a dict of keyword arguments."""
    return {
        "precision": _OPTIONS.precision,
        "threshold": _OPTIONS.threshold,
        "edgeitems": _OPTIONS.edgeitems,
        "linewidth": _OPTIONS.linewidth,
        "sci_mode": _OPTIONS.sci_mode,
    }


@contextmanager
def printoptions(**kwargs: object) -> Iterator[None]:
    """Temporarily apply :func:`set_printoptions` inside a ``with`` block."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------------------
# element formatting


class _ElementFormat:
    """Formats single elements so that all of them share one column width.

    The decisions (integral floats, scientific notation, width) are taken from
    the elements that are actually displayed; for floating arrays only the
    finite non-zero values take part, so ``0``, ``nan`` and ``inf`` never widen
    the columns. When no such value exists, the floats print as integral
    (``0.``, ``nan``) whatever ``sci_mode`` says.
    """

    def __init__(self, values: np.ndarray, opts: _PrintOptions) -> None:
        self.precision = opts.precision
        self.is_float = values.dtype.kind == "f"
        self.integral = True
        self.scientific = False
        self.width = 1
        if not self.is_float:
            for item in set(values.ravel().tolist()):
                self.width = max(self.width, len(str(item)))
            return

        flat = values.ravel().astype(np.float64)
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size:
            magnitudes = np.abs(shown)
            largest = float(magnitudes.max())
            smallest = float(magnitudes.min())
            self.integral = bool(np.all(shown == np.ceil(shown)))
            too_wide = largest / smallest > 1000.0 or largest > 1.0e8
            if self.integral:
                self.scientific = too_wide
            else:
                self.scientific = too_wide or smallest < 1.0e-4
            if opts.sci_mode is not None:
                self.scientific = opts.sci_mode
            distinct = set(np.unique(shown).tolist())
            if self.scientific:
                spec = f".{self.precision}e"
                lengths = (len(format(v, spec)) for v in distinct)
            elif self.integral:
                lengths = (len(format(v, ".0f")) + 1 for v in distinct)
            else:
                spec = f".{self.precision}f"
                lengths = (len(format(v, spec)) for v in distinct)
            self.width = max(self.width, max(lengths))

    def __call__(self, value: object) -> str:
        if not self.is_float:
            text = str(value)
        elif self.scientific:
            text = format(value, f"{self.width}.{self.precision}e")
        elif self.integral:
            text = format(value, ".0f")
            if math.isfinite(value):
                text += "."
        else:
            text = format(value, f".{self.precision}f")
        return text.rjust(self.width)


class _ComplexFormat:
    """Complex elements: the real part formatted as a real array of the real parts is, the
    imaginary part likewise but unpadded, with its sign and ``j`` (``1.5000-2.0000j``)."""

    def __init__(self, values: np.ndarray, opts: _PrintOptions) -> None:
        self.real = _ElementFormat(values.real, opts)
        self.imag = _ElementFormat(values.imag, opts)
        # the room a cell takes in a line: both parts, the sign and the "j"
        self.width = self.real.width + self.imag.width + 1

    def __call__(self, value: complex) -> str:
        imag = (self.imag(value.imag) + "j").lstrip()
        return self.real(value.real) + (imag if imag[0] in "+-" else "+" + imag)


_Format = _ElementFormat | _ComplexFormat


# ---------------------------------------------------------------------------
# layout


def _displayed_part(array: np.ndarray, edgeitems: int) -> np.ndarray:
    """The elements that remain visible once ``array`` is summarized."""
    if array.ndim == 0:
        return array
    if edgeitems <= 0:
        # Nothing but "..." is shown, so no element influences the layout.
        return array.reshape(-1)[:0]
    index = []
    for size in array.shape:
        if size > 2 * edgeitems:
            index.append(np.r_[0:edgeitems, size - edgeitems : size])
        else:
            index.append(np.arange(size))
    return array[np.ix_(*index)]


def _render_row(
    row: np.ndarray, indent: int, summarize: bool, fmt: _Format, opts: _PrintOptions
) -> str:
    edge = opts.edgeitems
    if summarize and edge <= 0:
        cells = ["..."]
    elif summarize and row.shape[0] > 2 * edge:
        cells = [fmt(v) for v in row[:edge].tolist()]
        cells.append(" ...")
        cells.extend(fmt(v) for v in row[-edge:].tolist())
    else:
        cells = [fmt(v) for v in row.tolist()]
    per_line = max(1, math.floor((opts.linewidth - indent) / (fmt.width + 2)))
    lines = [", ".join(cells[i : i + per_line]) for i in range(0, len(cells), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _render(
    array: np.ndarray, indent: int, summarize: bool, fmt: _Format, opts: _PrintOptions
) -> str:
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _render_row(array, indent, summarize, fmt, opts)
    edge = opts.edgeitems
    count = array.shape[0]
    if summarize and count > 2 * max(edge, 0):
        head = range(max(edge, 0))
        tail = range(count - max(edge, 0), count)
        blocks = [_render(array[i], indent + 1, summarize, fmt, opts) for i in head]
        blocks.append("...")
        blocks.extend(_render(array[i], indent + 1, summarize, fmt, opts) for i in tail)
    else:
        blocks = [_render(array[i], indent + 1, summarize, fmt, opts) for i in range(count)]
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _attach_suffixes(text: str, suffixes: Sequence[str], indent: int, linewidth: int) -> str:
    """Append ``, suffix`` items, moving one to its own line when it would not fit."""
    parts = [text]
    line_len = len(text) - text.rfind("\n") - 1
    # PyTorch's format measures the line holding the data as two characters
    # longer than it is; lines started for a suffix are measured exactly.
    slack = 2
    for suffix in suffixes:
        if line_len + slack + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
            slack = 0
        else:
            parts.append(", " + suffix)
            line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(
    array: np.ndarray,
    *,
    suffixes: Sequence[str] = (),
    dtype_suffix: str | None = None,
    prefix: str = "tensor(",
) -> str:
    """Return the text PyTorch's format prints for a tensor holding ``array``.

    Args:
        array: the data; any shape (including 0-d and empty) of a floating,
            complex, signed or unsigned integer, or bool dtype.
        suffixes: keyword texts such as ``"grad_fn=<SumBackward0>"`` or
            ``"requires_grad=True"``, appended in the given order.
        dtype_suffix: text such as ``"dtype=srcgrad.float64"``, placed before
            ``suffixes`` (after ``size=...`` when that is shown). The caller
            decides when it is needed: PyTorch's format shows it for every
            dtype other than the default float32, int64 and bool, and for empty
            arrays of any dtype other than the default float32.
        prefix: the opening text; continuation lines are indented by the
            length of its last line.

    Empty arrays print as ``[]`` with ``size=(...)`` unless they are 1-d.
    When ``edgeitems`` is 0 the shape is always added as ``size=(...)``.
    """
    data = np.asarray(array)
    kind = data.dtype.kind
    if kind not in "fiubc":
        raise TypeError(f"format_tensor does not support arrays of dtype {data.dtype}")
    opts = _OPTIONS
    indent = len(prefix) - prefix.rfind("\n") - 1
    extra: list[str] = []
    if data.size == 0:
        body = "[]"
        if data.ndim != 1:
            extra.append(f"size={tuple(data.shape)}")
    else:
        if opts.edgeitems <= 0:
            extra.append(f"size={tuple(data.shape)}")
        if kind == "f" and data.dtype.itemsize < 4:
            data = data.astype(np.float32)
        summarize = data.size > opts.threshold
        shown = _displayed_part(data, opts.edgeitems) if summarize else data
        fmt = _ComplexFormat(shown, opts) if kind == "c" else _ElementFormat(shown, opts)
        body = _render(data, indent, summarize, fmt, opts)
    if dtype_suffix is not None:
        extra.append(dtype_suffix)
    extra.extend(suffixes)
    return _attach_suffixes(prefix + body, extra, indent, opts.linewidth)
