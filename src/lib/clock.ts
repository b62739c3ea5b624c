/**
 * Where time comes from. Token expiry, grace periods and schedules read it through this port so
 * tests move time instead of sleeping; SQL that compares times receives `now()` as a parameter.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests set by hand; it starts at the real time unless told otherwise. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(ms: number): void {
    this.#now = ms;
  }
}
