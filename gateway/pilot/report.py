"""The pilot report: JSON for machines, Markdown for reviews, one standalone HTML page for people.

The HTML page has no external references at all (inline CSS, inline SVG charts), so it opens
from a file on a machine with no network: step latency per registry, a capability heatmap of
how each step was done, and read-back fidelity per field.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

from gateway.pilot.runner import PilotReport, RegistrySummary
from gateway.pilot.scenario import STEPS

MODE_COLOURS = {
    "native": "#1a9850", "envelope": "#91cf60", "sidecar": "#d9ef8b", "emulated": "#fee08b",
    "unsupported": "#bdbdbd", "failed": "#d73027", "n/a": "#f0f0f0",
}
SERIES = ["#4575b4", "#d73027", "#1a9850", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999"]


def write(report: PilotReport, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "pilot.json", "markdown": out / "pilot.md", "html": out / "pilot.html"}
    paths["json"].write_text(report.model_dump_json(indent=2))
    paths["markdown"].write_text(to_markdown(report))
    paths["html"].write_text(to_html(report))
    return paths


def _cell(ok: bool | None, mode: str) -> str:
    if ok is None:
        return "n/a"
    return f"{'ok' if ok else 'FAILED'} ({mode})"


def to_markdown(report: PilotReport) -> str:
    names = [r.name for r in report.registries]
    lines = [
        f"# Pilot {report.pilot_id}: {report.scenario} scenario",
        "",
        f"{report.started_at:%Y-%m-%d %H:%M UTC}, {report.repeat} run(s) per registry; latency is the median.",
        "",
        "| step | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for step in STEPS:
        cells = []
        for reg in report.registries:
            s = next(x for x in reg.steps if x.step == step)
            cells.append(f"{_cell(s.ok, s.mode)}, {s.median_ms:.0f} ms")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    lines += ["", "## Read-back fidelity", "", "| field | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    fields = sorted({f for r in report.registries for f in r.fidelity})
    for field_name in fields:
        cells = [{True: "kept", False: "LOST", None: "not carried"}[r.fidelity.get(field_name)] for r in report.registries]
        lines.append(f"| `{field_name}` | " + " | ".join(cells) + " |")
    lines += ["", "## Notes", ""]
    for reg in report.registries:
        lines.append(f"- **{reg.name}** ({reg.kind}): four-eyes "
                     f"{'enforced' if reg.four_eyes_enforced else 'not enforced' if reg.four_eyes_enforced is False else 'not tested'}; "
                     + "; ".join(f"{k}: {v}" for k, v in reg.capabilities.items()))
        for s in reg.steps:
            if s.ok is False:
                lines.append(f"  - {s.step}: {s.detail}")
    return "\n".join(lines) + "\n"


def _latency_chart(report: PilotReport) -> str:
    """Grouped horizontal bars: one group per step, one bar per registry."""
    regs = report.registries
    peak = max((s.median_ms for r in regs for s in r.steps), default=1.0) or 1.0
    bar, gap, label_w, width = 12, 10, 170, 520
    height = len(STEPS) * (len(regs) * bar + gap) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="latency-chart" width="{label_w + width + 90}" '
             f'height="{height}" role="img" aria-label="step latency per registry">']
    y = 10
    for step in STEPS:
        parts.append(f'<text x="0" y="{y + len(regs) * bar / 2 + 4}" font-size="12">{html.escape(step)}</text>')
        for i, reg in enumerate(regs):
            s = next(x for x in reg.steps if x.step == step)
            w = max(1.0, s.median_ms / peak * width)
            colour = SERIES[i % len(SERIES)]
            parts.append(f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{colour}">'
                         f'<title>{html.escape(reg.name)} {html.escape(step)}: {s.median_ms:.1f} ms</title></rect>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 3}" font-size="10">{s.median_ms:.0f} ms</text>')
            y += bar
        y += gap
    lx = 0
    for i, reg in enumerate(regs):
        parts.append(f'<rect x="{lx}" y="{y + 6}" width="10" height="10" fill="{SERIES[i % len(SERIES)]}"/>'
                     f'<text x="{lx + 14}" y="{y + 15}" font-size="11">{html.escape(reg.name)}</text>')
        lx += 24 + 7 * len(reg.name)
    parts.append("</svg>")
    return "".join(parts)


def _grid_chart(chart_id: str, label: str, rows: list[str], report: PilotReport,
                value: Callable[[RegistrySummary, str], tuple[str, str]]) -> str:
    """A heatmap: rows x registries, each cell coloured by ``value(registry, row) -> (colour, text)``."""
    regs = report.registries
    cell_w, cell_h, label_w = 120, 22, 190
    width = label_w + cell_w * len(regs)
    height = 30 + cell_h * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(label)}">']
    for j, reg in enumerate(regs):
        parts.append(f'<text x="{label_w + j * cell_w + cell_w / 2}" y="16" font-size="12" text-anchor="middle">'
                     f'{html.escape(reg.name)}</text>')
    for i, row in enumerate(rows):
        y = 24 + i * cell_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{html.escape(row)}</text>')
        for j, reg in enumerate(regs):
            colour, text = value(reg, row)
            x = label_w + j * cell_w
            parts.append(f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{colour}">'
                         f'<title>{html.escape(reg.name)} / {html.escape(row)}: {html.escape(text)}</title></rect>'
                         f'<text x="{x + cell_w / 2}" y="{y + 15}" font-size="11" text-anchor="middle">{html.escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(report: PilotReport) -> str:
    def step_cell(reg: RegistrySummary, step: str) -> tuple[str, str]:
        s = next(x for x in reg.steps if x.step == step)
        mode = "failed" if s.ok is False else ("n/a" if s.ok is None else s.mode)
        return MODE_COLOURS.get(mode, "#ffffff"), mode

    def fidelity_cell(reg: RegistrySummary, field_name: str) -> tuple[str, str]:
        value = reg.fidelity.get(field_name)
        return {True: ("#1a9850", "kept"), False: ("#d73027", "LOST"), None: ("#bdbdbd", "not carried")}[value]

    fields = sorted({f for r in report.registries for f in r.fidelity})
    rows = []
    for step in STEPS:
        cells = []
        for reg in report.registries:
            s = next(x for x in reg.steps if x.step == step)
            css = "fail" if s.ok is False else "na" if s.ok is None else "ok"
            detail = f' title="{html.escape(s.detail)}"' if s.detail else ""
            cells.append(f'<td class="{css}"{detail}>{html.escape(_cell(s.ok, s.mode))}<br>'
                         f'<small>{s.median_ms:.0f} ms</small></td>')
        rows.append(f"<tr><th>{html.escape(step)}</th>{''.join(cells)}</tr>")
    head = "".join(f"<th>{html.escape(r.name)}<br><small>{html.escape(r.kind)}</small></th>" for r in report.registries)
    data = json.dumps(report.model_dump(mode="json")).replace("</", "<\\/")  # inert inside <script>
    legend = "".join(f'<span class="key" style="background:{c}"></span>{html.escape(m)} ' for m, c in MODE_COLOURS.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pilot {html.escape(report.pilot_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; margin: 12px 0 24px; }} th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: center; }}
th {{ background: #f5f5f5; }} td.ok {{ background: #e8f5e9; }} td.fail {{ background: #ffebee; }} td.na {{ background: #fafafa; color: #888; }}
.key {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }}
section {{ margin-bottom: 28px; }}
</style></head><body>
<h1>Pilot {html.escape(report.pilot_id)}: {html.escape(report.scenario)} scenario</h1>
<p>{report.started_at:%Y-%m-%d %H:%M UTC}; {report.repeat} run(s) per registry; latencies are medians.
Overall: <strong id="overall">{'all steps succeeded or were reported unsupported' if report.ok else 'some steps FAILED'}</strong></p>
<section><h2>Steps</h2><table id="steps"><tr><th>step</th>{head}</tr>{''.join(rows)}</table></section>
<section><h2>Step latency per registry</h2>{_latency_chart(report)}</section>
<section><h2>How each step was done</h2><p>{legend}</p>{_grid_chart("capability-heatmap", "capability heatmap", list(STEPS), report, step_cell)}</section>
<section><h2>Read-back fidelity per field</h2>{_grid_chart("fidelity-chart", "fidelity per field", fields, report, fidelity_cell)}</section>
<script type="application/json" id="pilot-data">{data}</script>
</body></html>
"""
