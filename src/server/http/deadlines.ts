/** What a Deadlines list holds: its own links (no node object per entry) and what to do when time is up. */
export interface Expiring {
  /** milliseconds since the epoch */
  deadlineAt: number;
  prevExpiring: Expiring | undefined;
  nextExpiring: Expiring | undefined;
  listed: boolean;
  /** the deadline passed while listed (it has been unlisted) */
  expire(): void;
}

/** An Expiring with its links: what a class extends to be an entry of a Deadlines list. */
export abstract class DeadlineEntry implements Expiring {
  deadlineAt = 0;
  prevExpiring: Expiring | undefined;
  nextExpiring: Expiring | undefined;
  listed = false;
  abstract expire(): void;
}

/**
 * The request timeouts of a server with one timer between them, instead of a setTimeout and a clearTimeout
 * per request. Entries are kept in deadline order; requests share one timeout counted from arrival, so an
 * entry is nearly always added last. The timer is armed for the earliest deadline and, when it fires,
 * expires what is due and re-arms for the next: an entry removed meanwhile (answered in time, the common
 * case) costs an unlink, no timer call.
 */
export class Deadlines {
  private head: Expiring | undefined;
  private tail: Expiring | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** when the armed timer fires (Infinity: none armed) */
  private timerAt = Number.POSITIVE_INFINITY;

  /** Expire `item` at `at` (ms since the epoch) unless removed before; `at` must be within setTimeout's range. */
  add(item: Expiring, at: number): void {
    if (item.listed) this.remove(item);
    item.deadlineAt = at;
    let before = this.tail;
    while (before !== undefined && before.deadlineAt > at) before = before.prevExpiring;
    item.prevExpiring = before;
    item.nextExpiring = before === undefined ? this.head : before.nextExpiring;
    if (before === undefined) this.head = item;
    else before.nextExpiring = item;
    if (item.nextExpiring === undefined) this.tail = item;
    else item.nextExpiring.prevExpiring = item;
    item.listed = true;
    if (at < this.timerAt) this.arm(at);
  }

  remove(item: Expiring): void {
    if (!item.listed) return;
    item.listed = false;
    const { prevExpiring: prev, nextExpiring: next } = item;
    if (prev === undefined) this.head = next;
    else prev.nextExpiring = next;
    if (next === undefined) this.tail = prev;
    else next.prevExpiring = prev;
    item.prevExpiring = item.nextExpiring = undefined;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.fire, Math.max(1, at - Date.now()));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    try {
      for (let item = this.head; item !== undefined && item.deadlineAt <= now; item = this.head) {
        this.remove(item);
        item.expire();
      }
    } finally {
      // the earliest left (a throw above must not leave later requests without a timeout)
      if (this.head !== undefined && this.head.deadlineAt < this.timerAt) this.arm(this.head.deadlineAt);
    }
  };
}
