"""PNG plots in the paper's style: bars of examples/s split CPU | GPU, and speed-up lines on a log x axis."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .paper import PAPER  # noqa: E402
from .report import DEVICES, groups, unique  # noqa: E402


def _ok(rows):
    return [r for r in rows if r["status"] == "ok"]


def _bars(ax, rows, title, paper):
    """Grouped bars: cases along x, one bar per system, log y (the systems span decades).

    `paper` is [(case, PaperValue)]: drawn as dotted lines across that case's bars.
    """
    rows = _ok(rows)
    ax.set_title(title)
    if not rows:
        ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    cases, names = unique(r["case"] for r in rows), unique(r["system"] for r in rows)
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        values = {r["case"]: r["throughput"] for r in rows if r["system"] == name}
        xs = [i + (k - (len(names) - 1) / 2) * width for i, c in enumerate(cases) if c in values]
        ax.bar(xs, [values[c] for c in cases if c in values], width, label=name)
    paper = sorted((p for p in paper if p[0] in cases), key=lambda p: p[1].value)
    for k, (case, value) in enumerate(paper):
        x = cases.index(case)
        crowded = k + 1 < len(paper) and paper[k + 1][1].value < 1.25 * value.value
        ax.hlines(value.value, x - 0.4, x + 0.4, colors="k", linestyles="dotted")
        ax.annotate(f"paper: {value.program}", (x - 0.4, value.value), xytext=(2, -8 if crowded else 2),
                    textcoords="offset points", fontsize="x-small")  # below when the next is close
    ax.set_xticks(range(len(cases)), cases)
    ax.set_yscale("log")
    ax.set_ylabel("examples / s")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize="small")


def _training_figure(doc, path):
    rows_by_group = list(groups(doc))
    fig, axes = plt.subplots(len(rows_by_group), 2, figsize=(12, 4 * len(rows_by_group)), squeeze=False)
    tables = PAPER.get(doc["workload"], [])
    for (group, dtype, rows), row_axes in zip(rows_by_group, axes):
        for ax, device in zip(row_axes, DEVICES):
            paper = [(t.case, v) for t in tables if t.group == group for v in t.values if v.device == device]
            _bars(ax, [r for r in rows if r["device"] == device], f"{group} {dtype}, {device.upper()}", paper)
    fig.suptitle(doc["title"])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _label(row) -> str:
    return row["system"] if row["device"] == "cpu" else f"{row['system']} [{row['device']}]"


def _speedup_figure(doc, dtype, path):
    panels = [(g, rows) for g, d, rows in groups(doc) if d == dtype]
    paper = {t.group: t for t in PAPER.get(doc["workload"], [])}
    cols = 2
    n_rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(n_rows, cols, figsize=(12, 4.5 * n_rows), squeeze=False)
    for ax, (group, rows) in zip(axes.flat, panels):
        ax.axhline(1.0, color="gray", linestyle="--", linewidth=1, label=doc["baseline"])
        lines = [r for r in _ok(rows) if (r["system"], r["device"]) != (doc["baseline"], "cpu")]
        for label in unique(_label(r) for r in lines):
            points = [(r["items"], r["speedup"]) for r in lines if _label(r) == label]
            ax.plot(*zip(*points), marker="o", label=label)
        if group in paper and dtype == "float64":
            ax.plot([1e7], [paper[group].values[0].value], "k*", markersize=12, label="paper: Theano")
        ax.set_xscale("log")
        ax.set_title(f"{group} ({dtype})")
        ax.set_xlabel("elements")
        ax.set_ylabel("speed-up vs NumPy")
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(doc["title"])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot(doc: dict, out_dir: Path) -> list[str]:
    """Write the document's figures into out_dir; return their file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if doc["metric"] == "throughput":
        name = f"{doc['stem']}.png"
        _training_figure(doc, out_dir / name)
        return [name]
    names = []
    for dtype in unique(r["dtype"] for r in doc["results"]):
        names.append(f"{doc['stem']}-{dtype}.png")
        _speedup_figure(doc, dtype, out_dir / names[-1])
    return names
