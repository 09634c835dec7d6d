import type { Graph } from '../graph/graph.js';
import type { TrackingOptions } from '../graph/settings.js';
import { MemoryMonitor } from '../monitoring/memory-monitor.js';

/** The monitor of a server: the graph's tracking options, overridden field by field by the server's (monitoring.md section 3). */
export function createMonitor(graph: Graph, serverTracking: TrackingOptions | false | undefined): MemoryMonitor {
  const t: TrackingOptions =
    serverTracking === false ? { ...graph._tracking, enabled: false } : { ...graph._tracking, ...serverTracking };
  return new MemoryMonitor(graph.name, t.enabled ?? true, {
    recordIo: t.recordIo ?? false,
    ioSampleRate: t.ioSampleRate ?? 1,
  });
}
