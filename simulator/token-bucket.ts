/**
 * A token bucket: `ratePerSecond` calls a second on average, bursts of up to one second's worth.
 * It reads a monotonic `now` (milliseconds) given to it, so tests drive it without sleeping.
 */
export class TokenBucket {
  /** Calls a second, on average. */
  readonly ratePerSecond: number;
  /** The largest burst: one second's worth, at least 1. */
  readonly capacity: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;

  constructor(ratePerSecond: number, now: () => number) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    this.ratePerSecond = ratePerSecond;
    this.capacity = Math.max(1, ratePerSecond);
    this.#tokens = this.capacity;
    this.#now = now;
    this.#updatedAt = now();
  }

  /**
   * Takes one token. Answers 0 when it was available, else how many milliseconds until one will
   * be (nothing is taken then: a refused call does not use up the next caller's turn).
   */
  take(): number {
    this.#refill();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.ratePerSecond) * 1000);
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#updatedAt;
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsed / 1000) * this.ratePerSecond);
    this.#updatedAt = now;
  }
}
