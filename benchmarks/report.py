"""Results as files (JSON, CSV, a Markdown summary) and as tables on the terminal.

Everything is rendered from the saved JSON documents, so the summary in
results/README.md always covers every workload in the folder, also after a run
with --only.
"""
from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from .paper import PAPER, SOURCE

ORDER = ("mlp", "convnet", "elementwise")
DEVICES = ("cpu", "gpu")


def document(workload, results, machine: dict, options: dict, stem: str) -> dict:
    """The JSON document of one workload's run; `stem` names its files."""
    return {"workload": workload.name, "stem": stem, "title": workload.title, "unit": workload.unit,
            "metric": "speedup" if workload.baseline else "throughput",
            "baseline": workload.baseline, "options": options, "machine": machine,
            "plots": [], "results": [dataclasses.asdict(r) for r in results]}


def _machine_columns(machine: dict) -> dict:
    blas = "; ".join(f"{b['internal_api']} {b['version']} ({b['num_threads']} threads)"
                     for b in machine["blas"] if b.get("user_api") == "blas")
    versions = " ".join(f"{k}={v}" for k, v in machine["versions"].items() if v)
    return {"cpu": machine["cpu"], "cores": machine["cores"], "gpu": machine["gpu"],
            "blas": blas, "versions": versions, "date": machine["date"]}


def write(doc: dict, out_dir: Path) -> list[Path]:
    """<stem>.json and <stem>.csv (one row per result, with the machine in every row)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / f"{doc['stem']}.json", out_dir / f"{doc['stem']}.csv"
    json_path.write_text(json.dumps(doc, indent=1) + "\n")
    machine = _machine_columns(doc["machine"])
    rows = [{**{k: v for k, v in r.items() if k != "params"},
             "params": json.dumps(r["params"]), **machine} for r in doc["results"]]
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["workload"])
        writer.writeheader()
        writer.writerows(rows)
    return [json_path, csv_path]


def unique(values) -> list:
    return list(dict.fromkeys(values))


def _number(value: float, metric: str) -> str:
    if metric == "speedup":
        return f"{value:.2f}x"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _cell(row: dict | None, metric: str) -> str:
    if row is None:
        return "-"
    if row["status"] != "ok":
        return "n/a" if row["status"].startswith("not available") else "error"
    text = _number(row[metric], metric)
    if row["vs_engine"] is not None:
        text += f" ({row['vs_engine']:.2f}x)"
    if row["check"].startswith("failed"):
        text += " CHECK FAILED"
    return text


def _markdown_table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cells) + " |" for cells in body]


def _measured(rows, device: str) -> bool:
    return any(r["device"] == device and r["status"] == "ok" for r in rows)


def _table(rows: list[dict], metric: str) -> list[str]:
    """Systems down, cases across, CPU columns then GPU columns ('not measured' when none ran)."""
    cases, names = unique(r["case"] for r in rows), unique(r["system"] for r in rows)
    index = {(r["system"], r["device"], r["case"]): r for r in rows}
    engines = {r["system"]: r["engine"] + ("*" if r["handwritten"] else "") for r in rows}
    columns = [(d, c) for d in DEVICES if _measured(rows, d) for c in cases]
    header = ["system", "engine"] + [f"{d.upper()} {c}" for d, c in columns]
    header += [d.upper() for d in DEVICES if not _measured(rows, d)]
    body = []
    for name in names:
        cells = [name, engines[name]] + [_cell(index.get((name, d, c)), metric) for d, c in columns]
        body.append(cells + ["not measured" for d in DEVICES if not _measured(rows, d)])
    notes = unique(f"- {r['system']} [{r['device']}] {r['case']}: {r['status']}" for r in rows
                   if r["status"].startswith("error"))
    notes += unique(f"- {r['system']} [{r['device']}] {r['case']}: check {r['check']}" for r in rows
                    if r["check"].startswith("failed"))
    return _markdown_table(header, body) + ([""] + notes if notes else [])


def _unavailable(doc: dict) -> list[str]:
    """One line per system that could not run here, and why; a device nothing ran on is 'not measured'."""
    rows = doc["results"]
    lines = [f"- {device.upper()}: not measured here." for device in DEVICES if not _measured(rows, device)]
    lines += unique(f"- {r['system']} [{r['device']}]: {r['status']}" for r in rows
                    if r["status"].startswith("not available") and _measured(rows, r["device"]))
    return lines


def _gpu_speedups(rows: list[dict]) -> list[str]:
    """GPU throughput / CPU throughput of each system measured on both."""
    ok = {(r["system"], r["device"], r["case"]): r["throughput"] for r in rows if r["status"] == "ok"}
    cases, names = unique(r["case"] for r in rows), unique(r["system"] for r in rows)
    body = [[name] + [f"{ok[name, 'gpu', c] / ok[name, 'cpu', c]:.1f}x"
                      if (name, "gpu", c) in ok and (name, "cpu", c) in ok else "-" for c in cases]
            for name in names if any((name, "gpu", c) in ok for c in cases)]
    if not body:
        return []
    return ["", "GPU vs CPU speed-up:", ""] + _markdown_table(["system"] + cases, body)


def groups(doc: dict):
    """(group, dtype, rows) in the order they were run."""
    rows = doc["results"]
    for group, dtype in unique((r["group"], r["dtype"]) for r in rows):
        yield group, dtype, [r for r in rows if (r["group"], r["dtype"]) == (group, dtype)]


def _paper_table(doc: dict) -> list[str]:
    """The paper's numbers beside ours: the same engine, and our best on that device."""
    rows = [r for r in doc["results"] if r["status"] == "ok"]
    dtypes = unique(r["dtype"] for r in rows)
    dtype = "float64" if "float64" in dtypes else (dtypes or ["-"])[0]  # the paper's CPU dtype
    metric, body = doc["metric"], []
    for table in PAPER.get(doc["workload"], []):
        here = [r for r in rows if (r["group"], r["case"], r["dtype"]) == (table.group, table.case, dtype)]
        for p in table.values:
            on_device = [r for r in here if r["device"] == p.device]
            same = [f"{r['system']} {_number(r[metric], metric)}" for r in on_device
                    if p.engine and r["engine"] == p.engine]
            best = max(on_device, key=lambda r: r[metric], default=None)
            body.append([table.group, table.case, p.program, _number(p.value, metric),
                         ", ".join(same) or "not measured",
                         f"{best['system']} {_number(best[metric], metric)}" if best else "not measured"])
    if not body:
        return []
    header = ["net/expression", "case", "paper program", "paper",
              f"ours, same engine ({dtype})", "ours, best on that device"]
    return [f"Paper: {SOURCE}.", ""] + _markdown_table(header, body)


def markdown(doc: dict) -> str:
    """One workload's tables, the paper comparison and its plots, as Markdown."""
    unit = "speed-up vs NumPy" if doc["metric"] == "speedup" else doc["unit"]
    lines = [f"## {doc['title']}", ""]
    for group, dtype, rows in groups(doc):
        lines += [f"### {group}, {dtype}: {unit}", ""] + _table(rows, doc["metric"])
        lines += _gpu_speedups(rows) + [""]
    lines += ["`*` the hand-written program of its engine; (0.95x) = that system's throughput"
              " divided by the hand-written one of the same engine, on the same device;"
              " n/a = not available:", ""] + _unavailable(doc) + [""]
    paper = _paper_table(doc)
    if paper:
        lines += ["### The paper beside ours", ""] + paper + [""]
    lines += [f"![{doc['workload']}]({image})" for image in doc["plots"]]
    return "\n".join(lines).rstrip() + "\n"


def _machine_markdown(machine: dict) -> str:
    columns = _machine_columns(machine)
    pytensor = machine.get("pytensor", {})
    return "\n".join([
        f"- CPU: {columns['cpu']}, {columns['cores']} cores; GPU: {columns['gpu']}",
        f"- BLAS (threadpoolctl): {columns['blas'] or 'unknown'}",
        f"- PyTensor BLAS: {pytensor.get('blas_ldflags') or 'none (dot falls back to NumPy)'}",
        f"- numexpr threads: {machine.get('numexpr', {}).get('threads')}",
        f"- Versions: {columns['versions']}",
        f"- Date: {columns['date']}"])


def write_summary(out_dir: Path) -> Path:
    """results/README.md: every workload document in `out_dir`, with its plots."""
    docs = [json.loads(p.read_text()) for p in sorted(out_dir.glob("*.json"))]
    docs = [d for d in docs if "workload" in d]  # vgg16.json, sonar.json... are other scripts' own
    docs.sort(key=lambda d: (ORDER.index(d["workload"]) if d["workload"] in ORDER else len(ORDER), d["stem"]))
    parts = ["# Benchmark results", "",
             "Written by `python -m benchmarks`; see ../README.md for what is measured and how.", ""]
    if docs:
        parts += ["Machine:", "", _machine_markdown(docs[-1]["machine"]), ""]
    for doc in docs:
        options = ", ".join(f"{k}={v}" for k, v in doc["options"].items() if v not in (None, "", False))
        parts.append(f"- `{doc['stem']}`: run on {doc['machine']['date']} with {options}")
    parts.append("")
    parts += [markdown(doc) for doc in docs]
    path = out_dir / "README.md"
    path.write_text("\n".join(parts))
    return path
