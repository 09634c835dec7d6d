import { createHash } from 'node:crypto';
import type { StoredDefinition } from './store/store.js';
import type { EndpointDefinition, EndpointRecord } from './types.js';

/** The canonical JSON (sorted keys) of a value. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/** A definition with its sha256 over step, kind, sharedModel, modelClass, mechanism, labels, inputs, outputs, artifact (section 2). */
export function withHash(full: EndpointDefinition): StoredDefinition {
  const { artifactJson, ...d } = full;
  const definition = {
    step: d.step,
    kind: d.kind,
    sharedModel: d.sharedModel,
    modelClass: d.modelClass,
    executionMechanism: d.executionMechanism,
    labels: d.labels,
    inputs: d.inputs,
    outputs: d.outputs,
    artifact: artifactJson ?? null,
  };
  return { ...d, definitionHash: createHash('sha256').update(canonical(definition)).digest('hex') };
}

/** A running endpoint described without a store (tracking off, section 3): no uid, no times. */
export function unstoredRecord(
  graph: string,
  d: StoredDefinition,
  state: EndpointRecord['state'],
  error: string | null,
): EndpointRecord {
  const { definitionHash, ...rest } = d;
  return {
    uid: null,
    graph,
    ...rest,
    tag: null,
    definitionHash,
    state,
    error,
    instances: state === 'serving' ? 1 : 0,
    createdAt: null,
    updatedAt: null,
    firstRequestAt: null,
    lastRequestAt: null,
  };
}
