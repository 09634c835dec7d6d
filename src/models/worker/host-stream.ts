/** How a streamed call in a worker ended: the generator's return value, or its failure (or cancellation). */
export type StreamEnd = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * One streamed call in a worker (streaming.md, "Backpressure"): pulls the model's predictStream and sends its
 * chunks while it holds credit; with none left the generator stays paused until the main side grants more.
 */
export class HostStream {
  private wake: (() => void) | undefined = undefined;

  constructor(
    private credit: number,
    /** the call was cancelled: its reason, once it is */
    private readonly cancelled: () => { reason: unknown } | undefined,
  ) {}

  /** The main side took `n` more chunks. */
  grant(n: number): void {
    this.credit += n;
    this.poke();
  }

  /** Resume a paused stream (more credit, or cancellation). */
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Pull `it` to its end, sending each chunk with `send` (which throws when a chunk cannot be sent). */
  async run(it: AsyncIterator<unknown, unknown>, send: (chunk: unknown) => void): Promise<StreamEnd> {
    try {
      for (;;) {
        while (this.credit <= 0 && this.cancelled() === undefined) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
        }
        if (this.cancelled() !== undefined) break;
        const r = await it.next();
        if (r.done) return { ok: true, value: r.value };
        if (this.cancelled() !== undefined) break;
        // an error chunk fails the stream exactly as if the generator had thrown it
        if (r.value instanceof Error) {
          await closeQuietly(it);
          return { ok: false, error: r.value };
        }
        this.credit--;
        send(r.value);
      }
    } catch (error) {
      await closeQuietly(it);
      return { ok: false, error };
    }
    // cancelled: the signal has aborted already; now the generator's finally blocks run
    await closeQuietly(it);
    return { ok: false, error: this.cancelled()?.reason };
  }
}

async function closeQuietly(it: AsyncIterator<unknown, unknown>): Promise<void> {
  try {
    await it.return?.(undefined);
  } catch {
    // a failure while closing a stream that ended already is not reported
  }
}
