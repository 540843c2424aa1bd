/**
 * Quarantine in a running serve: feeds the policy (quarantine.ts) from the audit trail, persists a trip
 * (host/home/quarantine-file.ts), and splits the loaded packages into those served and those held.
 *
 * Every event that counts already reaches the audit trail (a refused capability request, a call's outcome,
 * a DLP finding), from tools/call and from the resource, prompt and completion handlers alike: the guard
 * wraps the Audit serve hands to both, so no path can skip the count.
 *
 * On a trip the package stops being counted, the host log gets a warning, the audit trail a `quarantined`
 * package record, the entry is written to quarantine.json (where other serves of the home see it through
 * their home watcher), and serve's `onTrip` takes the package out of the lists (its calls fail with
 * PACKAGE_QUARANTINED from then on) and tells the clients (notifications/message, list_changed).
 */
import { isHostError } from '../errors.ts';
import { addQuarantine, readQuarantine } from '../home/quarantine-file.ts';
import type { QuarantineEntry, QuarantineState } from '../home/quarantine-file.ts';
import type { Home } from '../home/home.ts';
import type { Audit } from './audit.ts';
import type { Logger } from './logger.ts';
import { createQuarantineWindow, isDenial, kindOfOutcome } from './quarantine.ts';
import type { QuarantineConfig, QuarantineKind, Trip } from './quarantine.ts';

export interface QuarantineGuard {
  /** The Audit to serve with: records go on unchanged; those that count are counted. */
  readonly audit: Audit;
  /** Re-reads quarantine.json (start, and every reload of the home). A damaged file holds every package. */
  refresh(): Promise<void>;
  /** The packages to serve and those held; pure over the state last read. */
  split<P extends { readonly name: string }>(packages: readonly P[]): { served: P[]; held: P[] };
  /** The entry of a held package. */
  entry(name: string): QuarantineEntry | undefined;
  /** Set when quarantine.json could not be used (every package is held). */
  readonly problem: string | undefined;
}

export interface GuardOptions {
  readonly home: Home;
  readonly config: QuarantineConfig;
  readonly audit: Audit;
  readonly logger: Logger;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
  /**
   * A package was quarantined in this process: re-split what is served and tell the clients. `written`
   * settles once quarantine.json has it (or the write failed and was logged): a client told of a
   * quarantine can rely on it being on disk.
   */
  readonly onTrip: (trip: Trip, written: Promise<void>) => void;
}

export function createQuarantineGuard(options: GuardOptions): QuarantineGuard {
  const { home, audit, logger } = options;
  const now = options.now ?? Date.now;
  const window = createQuarantineWindow(options.config, now);
  let state: QuarantineState = {};
  let problem: string | undefined;
  /** Trips of this process not yet written: kept across a re-read until they are. */
  const pending = new Map<string, QuarantineEntry>();

  const trip = (t: Trip): void => {
    if (state[t.package] || pending.has(t.package)) return;
    const entry: QuarantineEntry = { since: new Date(now()).toISOString(), reason: t.reason, kind: t.kind };
    pending.set(t.package, entry);
    state = { ...state, [t.package]: entry };
    logger.warn({ package: t.package, kind: t.kind, count: t.count }, `package quarantined: ${t.reason}; re-enable with "mcp-warden enable ${t.package}"`);
    audit.pkg({ package: t.package, event: 'quarantined', code: 'PACKAGE_QUARANTINED', reason: t.reason });
    const written = addQuarantine(home, t.package, entry)
      .then(() => void pending.delete(t.package))
      .catch((e: unknown) => logger.error({ package: t.package, code: isHostError(e) ? e.code : 'IO_FAILED' }, 'could not record the quarantine in quarantine.json; it holds until serve stops'));
    options.onTrip(t, written);
  };
  const count = (pkg: string, kind: QuarantineKind | null): void => {
    if (kind === null || state[pkg]) return;
    const t = window.record(pkg, kind);
    if (t) trip(t);
  };

  const guarded: Audit = {
    call: (r) => {
      audit.call(r);
      count(r.package, kindOfOutcome(r.outcome));
    },
    dlp: (r) => {
      audit.dlp(r);
      if (r.action === 'block') count(r.package, 'dlp');
    },
    capability: (pkg, tool, e) => {
      audit.capability(pkg, tool, e);
      if (isDenial(e)) count(pkg, 'capability');
    },
    pkg: (r) => audit.pkg(r),
    digest: (args, json) => audit.digest(args, json),
    drain: () => audit.drain(),
    close: () => audit.close(),
  };

  return {
    audit: guarded,
    get problem() {
      return problem;
    },
    async refresh() {
      let read: QuarantineState;
      try {
        read = await readQuarantine(home);
        problem = undefined;
      } catch (e) {
        problem = `${isHostError(e) ? `${e.code}: ` : ''}${(e as Error).message}`;
        read = {};
      }
      // A package the user re-enabled starts with an empty window.
      for (const name of Object.keys(state)) if (!read[name] && !pending.has(name)) window.reset(name);
      state = { ...read, ...Object.fromEntries(pending) };
    },
    split(packages) {
      const served: (typeof packages)[number][] = [];
      const held: (typeof packages)[number][] = [];
      for (const p of packages) (problem !== undefined || state[p.name] ? held : served).push(p);
      return { served, held };
    },
    entry: (name) => state[name],
  };
}
