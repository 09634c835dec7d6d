// Handlers referenced by name from examples/docs/steps-map.mjs.
export function upper(text) {
  return text.toUpperCase();
}
