/**
 * The stylesheet of the graph SVG (graph.md section 1): every `sg-*` class the renderer emits. `toSvg`
 * embeds it as one `<style>` element with `embedStyles: true` (a standalone file, `servegraph graph --format
 * svg`); the dashboard serves it in its own stylesheet instead, so the SVG it inlines carries no style.
 * The text holds no `<`, `>` or `&`, so it needs no escaping in XML or HTML.
 */
export const SVG_CSS = `.sg-graph { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; font-size: 12px; }
.sg-background { fill: #ffffff; }
.sg-node-box { fill: #f8fafc; stroke: #475569; stroke-width: 1.25; }
.sg-kind-model-runner .sg-node-box { fill: #eff6ff; stroke: #1e40af; }
.sg-collector .sg-node-box { fill: #f5f3ff; stroke: #6d28d9; }
.sg-handler .sg-node-box { fill: #fef2f2; stroke: #b91c1c; stroke-dasharray: 4 2; }
.sg-streaming .sg-node-box { stroke: #0e7490; }
.sg-responder .sg-node-box { stroke: #1d4ed8; stroke-width: 1.5; }
.sg-responder-ring { fill: none; stroke: #1d4ed8; stroke-width: 1.25; }
.sg-step-name { font-weight: 600; fill: #0f172a; }
.sg-step-kind { font-size: 11px; fill: #64748b; }
.sg-step-extra { font-size: 11px; fill: #334155; }
.sg-endpoint-box { fill: #ffffff; stroke: #94a3b8; stroke-width: 1; }
.sg-endpoint-label { font-size: 11px; fill: #0f172a; }
.sg-endpoint.sg-ok .sg-endpoint-box { fill: #dcfce7; stroke: #16a34a; }
.sg-endpoint.sg-warn .sg-endpoint-box { fill: #fef9c3; stroke: #ca8a04; }
.sg-endpoint.sg-bad .sg-endpoint-box { fill: #fee2e2; stroke: #dc2626; }
.sg-start-circle { fill: #0f172a; }
.sg-start-label { font-size: 11px; fill: #ffffff; }
.sg-edge { fill: none; stroke: #64748b; stroke-width: 1.5; }
.sg-edge-stream { stroke: #0e7490; stroke-dasharray: 6 4; }
.sg-edge-error { stroke: #dc2626; stroke-dasharray: 2 3; }
.sg-edge-label { font-size: 10px; fill: #b91c1c; }
.sg-edge-label-box { fill: #ffffff; stroke: none; }
.sg-arrowhead { fill: #64748b; }
`;
