/**
 * Cumulative write quotas: what one call may write (`writeBytes`) and what all calls under one grant may
 * write during its life (`grantWriteBytes`), so that many writes, or many calls, cannot fill the disk.
 */
import type { FsGrant } from '../../capabilities/fs.ts';
import type { Limits } from '../../types.ts';

// Keyed by the grant object: the host keeps one per loaded package, so this is per package and sandbox life.
const spentByGrant = new WeakMap<FsGrant, { bytes: number }>();

export type WriteQuota = 'writeBytes' | 'grantWriteBytes';

export class WriteBudget {
  readonly #limits: Pick<Limits, WriteQuota>;
  readonly #grant: { bytes: number };
  #call = 0;

  constructor(grant: FsGrant, limits: Pick<Limits, WriteQuota>) {
    this.#limits = limits;
    let spent = spentByGrant.get(grant);
    if (spent === undefined) {
      spent = { bytes: 0 };
      spentByGrant.set(grant, spent);
    }
    this.#grant = spent;
  }

  /** Reserves `bytes`, or names the quota they would exceed (then nothing is reserved). */
  reserve(bytes: number): WriteQuota | null {
    if (this.#call + bytes > this.#limits.writeBytes) return 'writeBytes';
    if (this.#grant.bytes + bytes > this.#limits.grantWriteBytes) return 'grantWriteBytes';
    this.#call += bytes;
    this.#grant.bytes += bytes;
    return null;
  }

  /** Gives back a reservation whose write did not happen. */
  refund(bytes: number): void {
    this.#call -= bytes;
    this.#grant.bytes -= bytes;
  }

  limitOf(quota: WriteQuota): number {
    return this.#limits[quota];
  }
}
