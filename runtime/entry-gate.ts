/**
 * When the next entry into an isolate may be handed to isolated-vm (runtime/isolate.ts).
 *
 * isolated-vm runs an isolate's queued tasks in one loop under one V8 HandleScope, which closes only when
 * the queue is empty (`Executor::Lock` around `IsolateEnvironment::AsyncEntry`'s loop, isolated-vm 7).
 * Whatever an entry copied in, its arguments first, stays rooted until then, and counts against the
 * isolate's heap limit: a full GC cannot free it. Entries handed in back to back, as a package's
 * concurrent calls are, kept the queue from ever emptying, and a package that held almost nothing was
 * stopped with SANDBOX_MEMORY_LIMIT once its calls' arguments added up to its limit (~480 calls of 85 KB
 * at 64 MiB).
 *
 * So entries are handed in order, back to back while little has been copied in since the isolate was
 * last seen idle, and otherwise only once every entry handed before has returned and the isolate has
 * been seen idle again (`idle`, runtime/isolate.ts: its task loop, and so its scope, has ended; that an
 * entry returned does not say so: isolated-vm's thread may still be in its loop when the next entry
 * arrives, and on a loaded machine it often is). Trivial calls keep their pipelining (handing entries one at a time cut the
 * throughput of 32 calls in flight by ~25%); what a busy isolate holds rooted stays under `budgetBytes`
 * plus one entry.
 */
export class EntryGate {
  readonly #budgetBytes: number;
  readonly #budgetEntries: number;
  /** Entries handed to isolated-vm that have not returned. */
  #handed = 0;
  /** What was handed in since the isolate was last seen idle: bytes, and entries. */
  #bytes = 0;
  #entries = 0;
  /** Settles when the entry before the next has been handed in: entries are handed in their order. */
  #tail: Promise<void> = Promise.resolve();
  #drained: (() => void) | null = null;
  readonly #idle: () => Promise<void>;

  /** `idle` resolves once the isolate has been seen holding no entry, after every entry handed in returned. */
  constructor(budgetBytes: number, idle: () => Promise<void>, budgetEntries = 256) {
    this.#budgetBytes = budgetBytes;
    this.#idle = idle;
    this.#budgetEntries = budgetEntries;
  }

  /** Resolves when an entry that copies `bytes` in may be handed to isolated-vm; then call `returned` once. */
  admit(bytes: number): Promise<void> {
    const admitted = this.#tail.then(async () => {
      if (this.#entries > 0 && (this.#bytes + bytes > this.#budgetBytes || this.#entries >= this.#budgetEntries)) {
        if (this.#handed > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
        await this.#idle();
        this.#bytes = 0;
        this.#entries = 0;
      }
      this.#handed++;
      this.#bytes += bytes;
      this.#entries++;
    });
    this.#tail = admitted;
    return admitted;
  }

  /** An entry that was admitted has returned (or was never run). */
  returned(): void {
    this.#handed--;
    if (this.#handed > 0) return;
    const drained = this.#drained;
    this.#drained = null;
    drained?.();
  }
}

/** What an entry's arguments copy into the isolate, roughly: its strings' lengths and its buffers' sizes. */
export function entryBytes(args: readonly unknown[]): number {
  let n = 0;
  for (const a of args) {
    if (typeof a === 'string') n += a.length;
    else if (a instanceof ArrayBuffer) n += a.byteLength;
  }
  return n;
}
