/** The report's style sheet: print-friendly, no web fonts, charts styled by class. */
export const REPORT_STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.meta, p.note { color: #555; margin: 4px 0; }
table { border-collapse: collapse; margin: 8px 0 4px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; }
td.num { text-align: right; } thead th { border-bottom: 2px solid #999; }
caption { caption-side: top; text-align: left; color: #555; padding-bottom: 4px; }
tr.mean th, tr.mean td { border-top: 2px solid #999; font-weight: 600; }
td.best { font-weight: 700; } .std { color: #777; font-weight: 400; font-size: 12px; }
td.delta, th.delta { color: #666; font-size: 13px; } td.better { color: #187a2f; font-weight: 600; } td.worse { color: #b3261e; font-weight: 600; }
.ci { color: #888; font-size: 11px; font-weight: 400; white-space: nowrap; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px 20px; }
.charts.small { grid-template-columns: repeat(auto-fill, minmax(370px, 1fr)); }
figure.chart { margin: 0; } figure.chart svg { max-width: 100%; height: auto; display: block; }
svg .title { font-size: 13px; font-weight: 600; fill: #222; }
svg .tick { font-size: 11px; fill: #555; } svg .axis { font-size: 11px; fill: #333; }
svg .grid { stroke: #ececec; stroke-width: 1; } svg .frame { fill: none; stroke: #bbb; }
svg .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
svg .dashed { stroke-dasharray: 5 4; } svg .faint { stroke-width: 1; opacity: 0.35; }
svg .ref { stroke: #b3261e; stroke-width: 1.2; stroke-dasharray: 6 4; }
svg .reflabel { font-size: 11px; fill: #b3261e; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
table.runs th, table.runs td { white-space: nowrap; }
nav { margin: 8px 0 0; font-size: 13px; } nav a { margin-right: 12px; color: #1f4e99; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 2px 0 0 58px; padding: 0; font-size: 12px; color: #333; }
ul.legend li { display: flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 16px; border-top: 3px solid; } .swatch.dashed { border-top-style: dashed; }
p.nodata { color: #888; font-style: italic; border: 1px dashed #ccc; padding: 12px; margin: 0; }
details { margin: 6px 0; } summary { cursor: pointer; } pre { background: #f6f6f6; padding: 8px 12px; overflow-x: auto; font-size: 12px; }
`;
