"""A static, self-contained leaderboard page: one HTML file, no CDN, no network.

Per-dataset tabs, tables sortable by clicking a column header, best value per metric in bold,
arrows for the metric direction, and a thumbnail of each method's first fused image (embedded as
a data URI so the file can be mailed or published as is).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from fusionbench.results.leaderboard import OUTPUTS_MARK, Leaderboard
from fusionbench.results.previews import preview_dir
from fusionbench.results.store import safe_name

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f23}
h1{font-size:20px;margin:0 0 4px}.meta{color:#586069;margin-bottom:16px}
.tabs button{border:1px solid #d0d7de;background:#f6f8fa;padding:6px 12px;margin-right:4px;cursor:pointer;border-radius:6px 6px 0 0}
.tabs button.active{background:#fff;border-bottom-color:#fff;font-weight:600}
.panel{display:none;border:1px solid #d0d7de;padding:12px;border-radius:0 6px 6px 6px}.panel.active{display:block}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #eaecef;text-align:right;white-space:nowrap}
th{cursor:pointer;user-select:none;background:#f6f8fa}th.text,td.text{text-align:left}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.badge{font-size:11px;padding:1px 6px;border-radius:8px;background:#fff8c5;border:1px solid #d4a72c;color:#7d4e00;margin-left:6px}
h3.reported,h3.gap{font-size:14px;margin:14px 0 4px;color:#57606a;font-style:italic}
td.best{font-weight:700}td img{height:64px;image-rendering:pixelated}.warn{color:#9a6700}.std{color:#6a737d;font-size:12px}
"""

_JS = """
function showTab(i){document.querySelectorAll('.tabs button').forEach((b,j)=>b.classList.toggle('active',i===j));
document.querySelectorAll('.panel').forEach((p,j)=>p.classList.toggle('active',i===j));}
function sortTable(th){const table=th.closest('table');const idx=[...th.parentNode.children].indexOf(th);
const asc=th.getAttribute('aria-sort')!=='ascending';table.querySelectorAll('th').forEach(h=>h.removeAttribute('aria-sort'));
th.setAttribute('aria-sort',asc?'ascending':'descending');const body=table.tBodies[0];
const rows=[...body.rows];const key=r=>{const c=r.cells[idx];const v=c.dataset.value;return v===undefined?c.textContent:parseFloat(v);};
rows.sort((a,b)=>{const x=key(a),y=key(b);const cmp=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));return asc?cmp:-cmp;});
rows.forEach(r=>body.appendChild(r));}
document.addEventListener('DOMContentLoaded',()=>{document.querySelectorAll('th').forEach(th=>th.addEventListener('click',()=>sortTable(th)));showTab(0);});
"""


def _thumbnail(results: Path, suite: str, scores: pd.DataFrame, dataset: str, method: str) -> str:
    rows = scores[(scores["dataset"] == dataset) & (scores["method"] == method)]
    for run_key in rows["run_key"].unique():
        for image_id in sorted(rows[rows["run_key"] == run_key]["image_id"].unique()):
            path = preview_dir(results, suite, run_key) / f"{safe_name(image_id)}.png"
            if path.exists():
                data = base64.b64encode(_small_png(path)).decode("ascii")
                return f'<img alt="{html.escape(method)} {html.escape(image_id)}" src="data:image/png;base64,{data}">'
    return ""


THUMBNAIL_SIDE = 96


def _small_png(path: Path) -> bytes:
    """A 96-pixel thumbnail, so a page with dozens of methods stays a few hundred kilobytes."""
    import io

    from PIL import Image

    with Image.open(path) as picture:
        picture = picture.convert("RGB")
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def render_html(board: Leaderboard, scores: pd.DataFrame, results: Path, suite: str, reported: Sequence[Any] = ()) -> str:
    from fusionbench import __version__
    from fusionbench.results.leaderboard import method_label

    scores = scores.copy()
    if "method" not in scores.columns and not scores.empty:
        scores["method"] = scores.apply(method_label, axis=1)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>fusionbench — {html.escape(suite)}</title><style>{_CSS}</style></head><body>",
        f"<h1>fusionbench leaderboard — {html.escape(suite)}</h1>",
        f"<div class='meta'>generated {generated} by fusionbench {__version__}; mean ± std over images (and seeds); "
        "click a column header to sort</div>",
    ]
    for problem in board.problems:
        parts.append(f"<div class='warn'>not comparable: {html.escape(problem)}</div>")
    parts.append("<div class='tabs'>")
    for i, dataset in enumerate(board.datasets):
        label = dataset + (" (synthetic)" if board.is_synthetic(dataset) else "")
        parts.append(f"<button type='button' data-dataset='{html.escape(dataset)}' onclick='showTab({i})'>{html.escape(label)}</button>")
    parts.append("</div>")
    for dataset in board.datasets:
        parts.append(_panel(board, scores, results, suite, dataset, reported))
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts)


def _panel(board: Leaderboard, scores: pd.DataFrame, results: Path, suite: str, dataset: str, reported: Sequence[Any] = ()) -> str:
    sub = board.table[board.table["dataset"] == dataset]
    metrics = board.metrics_for(dataset)
    methods = list(dict.fromkeys(sub["method"]))
    cells = {(r.method, r.metric): r for r in sub.itertuples()}
    outputs = board.from_outputs(dataset)
    badge = f" <span class='badge outputs' title='scored from saved outputs, not run here'>{OUTPUTS_MARK}</span>"
    out = [f"<div class='panel' data-dataset='{html.escape(dataset)}'><table><thead><tr>"]
    out.append("<th class='num'>#</th><th class='text'>method</th><th class='num'>avg rank</th>")
    for metric in metrics:
        higher = next(cells[(m, metric)] for m in methods if (m, metric) in cells).higher_is_better
        out.append(f"<th class='num' data-metric='{html.escape(metric)}'>{html.escape(metric)} {'↑' if higher else '↓'}</th>")
    out.append("<th class='text'>preview</th></tr></thead><tbody>")
    for position, method in enumerate(methods, 1):
        avg_rank = sub[sub["method"] == method]["avg_rank"].iloc[0]
        avg_text = "-" if pd.isna(avg_rank) else f"{avg_rank:.2f}"
        avg_value = "" if pd.isna(avg_rank) else f" data-value='{avg_rank}'"
        out.append(
            f"<tr data-method='{html.escape(method)}'><td data-value='{position}'>{position}</td>"
            f"<td class='text'>{html.escape(method)}{badge if method in outputs else ''}</td><td{avg_value}>{avg_text}</td>"
        )
        for metric in metrics:
            cell = cells.get((method, metric))
            if cell is None:
                out.append("<td>-</td>")
                continue
            best = " best" if cell.rank == 1 else ""
            out.append(
                f"<td class='num{best}' data-value='{cell.mean!r}'>{cell.mean:.4f}"
                f"<span class='std'> ± {cell.std:.4f}</span></td>"
            )
        out.append(f"<td class='text'>{_thumbnail(results, suite, scores, dataset, method)}</td></tr>")
    out.append("</tbody></table>")
    if reported:
        from fusionbench.results.render.reported import gap_table, reported_html

        out.append(reported_html(dataset, reported, gap_table(scores, reported, dataset)))
    out.append("</div>")
    return "".join(out)
