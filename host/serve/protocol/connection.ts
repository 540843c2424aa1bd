/**
 * The server side of one stdio connection: the factory `serveStdio` calls for the era the client opened
 * with (a discarded `server/discover` probe may make it build two), the state the instances share (the
 * list version cursors are bound to, the resources/subscribe subscriptions), and the change notifications
 * a reload sends (host/commands/serve.ts).
 *
 * On 2025-11-25 change notifications are sent as they are; on 2026-07-28 the SDK's entry routes them onto
 * the client's `subscriptions/listen` streams (and drops them when nobody listens).
 */
import type { McpServerFactory, ProtocolEra, Server } from '@modelcontextprotocol/server';
import { createWardenServer } from '../server.ts';
import type { WardenServerOptions } from '../server.ts';
import { createSubscriptions } from './subscriptions.ts';

/** What a reload changed. */
export interface ServedChange {
  readonly tools: boolean;
  readonly resources: boolean;
  readonly prompts: boolean;
  /** Packages updated (other code) or removed. */
  readonly packages: ReadonlySet<string>;
  /** The listed resource URIs those packages served before the reload. */
  readonly uris: readonly string[];
}

export interface Connection {
  readonly factory: McpServerFactory;
  /** The list version (cursors of an older one are refused). */
  listVersion(): number;
  /** Tells every live instance what a reload changed: list_changed and resources/updated notifications. */
  announce(change: ServedChange): Promise<void>;
  /** Server instances connected now, with their era. */
  live(): ReadonlyMap<Server, ProtocolEra>;
}

export type ConnectionOptions = Omit<WardenServerOptions, 'listVersion' | 'subscriptions'>;

export function createConnection(options: ConnectionOptions): Connection {
  let version = 1;
  const subscriptions = createSubscriptions();
  const live = new Map<Server, ProtocolEra>();
  const factory: McpServerFactory = ({ era }) => {
    const server = createWardenServer({ ...options, subscriptions, listVersion: () => version }, era);
    live.set(server, era);
    server.onclose = () => {
      live.delete(server);
    };
    return server;
  };
  return {
    factory,
    listVersion: () => version,
    live: () => live,
    async announce(change) {
      if (!change.tools && !change.resources && !change.prompts && change.packages.size === 0) return;
      // Any change to what is served invalidates every cursor handed out so far.
      version++;
      const subscribed = subscriptions.servedBy(change.packages);
      for (const [server, era] of live) {
        const sends: Promise<void>[] = [];
        if (change.tools) sends.push(server.sendToolListChanged());
        if (change.resources) sends.push(server.sendResourceListChanged());
        if (change.prompts) sends.push(server.sendPromptListChanged());
        // 2025-11-25: only what the client subscribed to; 2026-07-28: the entry's listen filters choose.
        const uris = era === 'legacy' ? subscribed : [...new Set([...change.uris, ...subscribed])];
        for (const uri of uris) sends.push(server.sendResourceUpdated({ uri }));
        await Promise.allSettled(sends);
      }
    },
  };
}
