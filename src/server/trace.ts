/**
 * `{ trace: { traceparent, tracestate? } }` when headers (lower-case names) carry a W3C `traceparent`, else
 * undefined: the event's meta, whose trace the built-in LLM providers forward (http.md, llm.md section 3.1).
 */
export function traceMetaOf(headers: Readonly<Record<string, string>>): Record<string, unknown> | undefined {
  const traceparent = headers.traceparent;
  if (traceparent === undefined) return undefined;
  const tracestate = headers.tracestate;
  return { trace: tracestate === undefined ? { traceparent } : { traceparent, tracestate } };
}
