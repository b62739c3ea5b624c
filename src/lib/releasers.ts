/**
 * Resources released in reverse order of acquisition (LIFO), each once, however often `release`
 * is called and whichever of them throws. The composition root registers each resource's close
 * right after it opens it.
 */
export class Releasers implements AsyncDisposable {
  #stack: { name: string; release: () => Promise<void> | void }[] = [];
  #released: Promise<Error[]> | undefined;

  add(name: string, release: () => Promise<void> | void): void {
    if (this.#released) throw new Error(`cannot add ${name}: already released`);
    this.#stack.push({ name, release });
  }

  /** Releases everything; resolves to the errors met, in order (it never rejects). */
  release(): Promise<Error[]> {
    this.#released ??= (async () => {
      const errors: Error[] = [];
      while (this.#stack.length > 0) {
        const item = this.#stack.pop();
        if (!item) break;
        try {
          await item.release();
        } catch (error) {
          const err = error instanceof Error ? error : new Error(String(error));
          errors.push(new Error(`closing ${item.name}: ${err.message}`, { cause: err }));
        }
      }
      return errors;
    })();
    return this.#released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
