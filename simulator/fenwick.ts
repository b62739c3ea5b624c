/**
 * A growable Fenwick (binary indexed) tree of 0/1 flags over the store's slots, so the list
 * endpoint finds "the k-th live workspace" in O(log n) instead of scanning: a page at offset
 * 990,000 of a million costs the same as the first page, tombstones or not.
 */
export class Fenwick {
  /** 1-based partial sums; `#tree[i]` covers slots (i - lowbit(i), i]. */
  #tree: Int32Array;
  /** The flags themselves, 0-based, so `get` is O(1). */
  #flags: Uint8Array;
  #size = 0;
  #total = 0;

  constructor(capacity = 1024) {
    this.#tree = new Int32Array(capacity + 1);
    this.#flags = new Uint8Array(capacity);
  }

  /** Number of slots. */
  get size(): number {
    return this.#size;
  }

  /** Number of slots whose flag is set. */
  get total(): number {
    return this.#total;
  }

  /** Appends a slot with `flag`; O(log n) amortised. */
  push(flag: boolean): void {
    if (this.#size === this.#flags.length) this.#grow();
    const i = ++this.#size;
    const value = flag ? 1 : 0;
    this.#flags[i - 1] = value;
    // tree[i] sums (i - lowbit(i), i]: its own value plus the nodes that tile the rest of it.
    let sum = value;
    const low = i - (i & -i);
    for (let j = i - 1; j > low; j -= j & -j) sum += this.#tree[j] as number;
    this.#tree[i] = sum;
    this.#total += value;
  }

  /** The flag of a 0-based slot. */
  get(slot: number): boolean {
    return this.#flags[slot] === 1;
  }

  /** Sets the flag of a 0-based slot; O(log n). */
  set(slot: number, flag: boolean): void {
    if (slot < 0 || slot >= this.#size) throw new RangeError(`slot ${slot} out of range`);
    const value = flag ? 1 : 0;
    const delta = value - (this.#flags[slot] as number);
    if (delta === 0) return;
    this.#flags[slot] = value;
    this.#total += delta;
    for (let i = slot + 1; i <= this.#size; i += i & -i) {
      this.#tree[i] = (this.#tree[i] as number) + delta;
    }
  }

  /** Drops the slots from `size` on (a failed bulk insert). */
  truncate(size: number): void {
    if (size >= this.#size) return;
    // Nodes at or below `size` cover only slots below it, so they stay right; clear the rest.
    this.#tree.fill(0, size + 1, this.#size + 1);
    this.#flags.fill(0, size, this.#size);
    this.#size = size;
    this.#total = this.countBefore(size);
  }

  /** How many set flags lie in slots [0, slot). */
  countBefore(slot: number): number {
    let sum = 0;
    for (let i = Math.min(slot, this.#size); i > 0; i -= i & -i) sum += this.#tree[i] as number;
    return sum;
  }

  /** The 0-based slot of the k-th set flag (k 0-based), or -1 when there are not that many. */
  find(k: number): number {
    if (k < 0 || k >= this.#total) return -1;
    let position = 0;
    let remaining = k + 1;
    // Descend from the highest power of two: each step keeps the prefix strictly below `remaining`.
    for (let step = highestPowerOfTwo(this.#size); step > 0; step >>= 1) {
      const next = position + step;
      if (next <= this.#size && (this.#tree[next] as number) < remaining) {
        position = next;
        remaining -= this.#tree[next] as number;
      }
    }
    return position; // 1-based position + 1 is the answer; as 0-based that is `position`
  }

  #grow(): void {
    const capacity = Math.max(1024, this.#flags.length * 2);
    // Node i's range depends only on i, so the existing sums stay valid in a bigger array.
    const tree = new Int32Array(capacity + 1);
    tree.set(this.#tree);
    const flags = new Uint8Array(capacity);
    flags.set(this.#flags);
    this.#tree = tree;
    this.#flags = flags;
  }
}

function highestPowerOfTwo(n: number): number {
  if (n <= 0) return 0;
  return 2 ** Math.floor(Math.log2(n));
}
