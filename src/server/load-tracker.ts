/** A model's load state, as `/readyz` reports it (http.md, "Health and readiness"). */
export type ModelLoadState = 'loading' | 'loaded' | 'failed';

/** Progress of model loading, reported by `onProgress` (http.md, `serve`). */
export type LoadProgress = { loaded: number; total: number; endpoint: string };

/**
 * Counts model copies as they load: every copy (one per main-thread model, one per worker of a pool, shared
 * models included) is expected before any starts, so `total` is known from the first report on.
 */
export class LoadTracker {
  private readonly models = new Map<string, { state: ModelLoadState; loaded: number; copies: number }>();
  private total = 0;
  private loadedCopies = 0;

  constructor(private readonly onProgress?: (p: LoadProgress) => void) {}

  /** a model (endpoint or shared model) will load `copies` copies */
  expect(name: string, copies: number): void {
    const prev = this.models.get(name);
    if (prev !== undefined) this.total -= prev.copies;
    this.models.set(name, { state: 'loading', loaded: 0, copies });
    this.total += copies;
  }

  /** one copy of `name` finished loading */
  loaded(name: string): void {
    const m = this.models.get(name);
    if (m === undefined || m.loaded >= m.copies) return;
    m.loaded += 1;
    this.loadedCopies += 1;
    if (m.loaded === m.copies) m.state = 'loaded';
    try {
      this.onProgress?.({ loaded: this.loadedCopies, total: this.total, endpoint: name });
    } catch {
      // a progress display that throws must not stop loading
    }
  }

  /** these models failed to load (the rest of their copies never will) */
  failed(names: readonly string[]): void {
    for (const n of names) {
      const m = this.models.get(n);
      if (m !== undefined && m.state !== 'loaded') m.state = 'failed';
    }
  }

  /** name → state, in the order the models were expected */
  states(): Record<string, ModelLoadState> {
    const out: Record<string, ModelLoadState> = {};
    for (const [n, m] of this.models) out[n] = m.state;
    return out;
  }
}
