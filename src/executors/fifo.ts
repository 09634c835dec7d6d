/** A FIFO queue with O(1) push and shift; items are removed from the middle lazily (`isLive` is false). */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  /** items known to have died in place since the last sweep */
  private dead = 0;

  constructor(private readonly isLive: (item: T) => boolean) {}

  push(item: T): void {
    this.items.push(item);
  }

  /** The first live item, removed; undefined when none is left. */
  shift(): T | undefined {
    this.skipDead();
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as T;
    this.items[this.head++] = undefined;
    this.compact();
    return item;
  }

  /** Whether a live item is waiting. */
  get hasLive(): boolean {
    this.skipDead();
    return this.head < this.items.length;
  }

  /** Tell the queue one of its items died in place: it sweeps them out when they pile up. */
  noteRemoved(): void {
    if (++this.dead > 1024 && this.dead * 2 > this.items.length - this.head) {
      this.items = this.items.slice(this.head).filter((item) => this.isLive(item as T));
      this.head = 0;
      this.dead = 0;
    }
  }

  /** Every live item, removed, in order. */
  drain(): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (this.isLive(item)) out.push(item);
    }
    this.items = [];
    this.head = 0;
    this.dead = 0;
    return out;
  }

  private skipDead(): void {
    while (this.head < this.items.length && !this.isLive(this.items[this.head] as T)) {
      this.items[this.head++] = undefined;
    }
    this.compact();
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
