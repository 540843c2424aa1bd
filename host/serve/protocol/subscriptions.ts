/**
 * The resources/subscribe subscriptions of a connection (2025-11-25; the 2026-07-28 revision replaced them
 * with `subscriptions/listen`, which the SDK's serveStdio entry serves), and which of them a reload touched.
 *
 * Threat: a client could subscribe to ever more URIs; the set is bounded, and only URIs a served package
 * answers for can be subscribed (the caller checks with Features.packageOfUri).
 */

/** Subscriptions one connection may hold. */
export const MAX_SUBSCRIPTIONS = 1024;

export interface Subscriptions {
  readonly limit: number;
  /** Subscribes to `uri`, served by package `pkg`; false when the limit is reached. */
  add(uri: string, pkg: string): boolean;
  remove(uri: string): void;
  /** The subscribed URIs served by any of these packages (updated or removed by a reload). */
  servedBy(packages: ReadonlySet<string>): string[];
  /** Every subscribed URI. */
  uris(): string[];
}

export function createSubscriptions(limit = MAX_SUBSCRIPTIONS): Subscriptions {
  const byUri = new Map<string, string>();
  return {
    limit,
    add(uri, pkg) {
      if (!byUri.has(uri) && byUri.size >= limit) return false;
      byUri.set(uri, pkg);
      return true;
    },
    remove(uri) {
      byUri.delete(uri);
    },
    servedBy(packages) {
      return [...byUri].filter(([, pkg]) => packages.has(pkg)).map(([uri]) => uri);
    },
    uris: () => [...byUri.keys()],
  };
}
