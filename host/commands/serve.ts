/**
 * `mcp-warden serve`: the MCP host a desktop client launches. Serves the verified installed packages of
 * the home directory and, with --dev, unsigned packages from source directories (for tool authors).
 *
 * stdout carries the protocol and nothing else; diagnostics go to stderr (or --log-file).
 */
import { resolve } from 'node:path';
import { createSandbox } from '../../runtime/index.ts';
import { parseFlags } from './cli-support.ts';
import { openAudit } from '../serve/audit.ts';
import { HostError, isHostError } from '../errors.ts';
import { readConfig } from '../home/config.ts';
import { withDlpPolicies } from '../serve/dlp.ts';
import { withSecrets } from '../secrets/grant.ts';
import { systemKeychain } from '../secrets/key.ts';
import { loadSecretValues } from '../secrets/sources.ts';
import type { SecretValues } from '../secrets/sources.ts';
import { storeKeyKind } from '../secrets/store.ts';
import type { WardenConfig } from '../home/config.ts';
import { homeLayout, resolveHomeDir } from '../home/home.ts';
import { installedSources, prepareHome, reportLoad } from '../serve/startup.ts';
import { loadAll, servedClaims } from '../serve/loader.ts';
import { warmValidators } from '../serve/tool-validators.ts';
import type { DevAllowance, LoadedPackage, PackageSource } from '../serve/loader.ts';
import { LOG_LEVELS, createLogger } from '../serve/logger.ts';
import type { Logger } from '../serve/logger.ts';
import { createRateLimiter, parseRateLimit } from '../serve/rate-limit.ts';
import { createRedactor } from '../serve/redact.ts';
import { createRegistry } from '../serve/registry.ts';
import { createQuarantineGuard } from '../serve/quarantine-guard.ts';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { createFeatures } from '../serve/features/index.ts';
import { createConnection } from '../serve/protocol/connection.ts';
import { DEFAULT_PAGE_SIZE, createPaginator } from '../serve/protocol/pagination.ts';
import { REQUEST_SCHEMAS } from '../serve/server.ts';
import { SessionTransport } from '../serve/session.ts';
import { BoundedStdioTransport } from '../serve/transport.ts';
import { createJsonThread } from '../serve/json-thread.ts';
import { createReplyJson } from '../serve/reply-json.ts';
import { VERSION } from '../version.ts';
import { verifierForOneLoad, verifyInstalled } from '../home/verify-installed.ts';
import { createConsentStore } from '../serve/consent/store.ts';
import { watchHome } from '../home/watch.ts';
import type { Audit } from '../serve/audit.ts';
import type { CommandIO } from './io.ts';
import { extraPolicyFiles, loadOrgPolicy } from '../policy/load.ts';
import { policyCeiling } from '../policy/enforce.ts';
import type { OrgPolicy } from '../policy/parse.ts';

export const USAGE = `Usage: mcp-warden serve [options]

Serves MCP tools, resources and prompts over stdio (stdin/stdout) to an MCP client, in protocol
revision 2025-11-25 (initialize) or 2026-07-28 (server/discover, per-request _meta), as the client opens.

Options:
  --home DIR            home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --dev PKG_DIR         also serve an UNSIGNED package from a source directory (repeatable; for authors)
  --grant SLOT=PATH     bind a file slot of --dev packages to a directory (repeatable)
  --allow-net RULE      limit --dev packages' network to these rules (repeatable; default: as the manifest asks)
  --allow-fs RULE       allow --dev packages a fixed-path rule, read:/path or write:/path (repeatable)
  --no-prefix           serve the names and URIs of the one served package as they are, without the
                        package's namespace (refused when more than one package would be served)
  --policy FILE         also apply this organisation policy (repeatable; as $MCP_WARDEN_POLICY): it can
                        only add restrictions to the system-wide one (docs/policy.md)
  --rate-limit N/s[:B]  cap calls per second per package, with burst B (default: no cap; calls queue)
  --workers N           sandbox worker processes (default: tied to the CPU count)
  --no-cpu-binding      let the system place the workers on any CPU (default on Linux: each worker
                        bound to one CPU, which spares its threads waking another; docs/performance.md)
  --log-level LEVEL     trace, debug, info, warn, error, fatal, silent (default info)
  --log-file FILE       write the log to FILE (0600; a missing directory is made 0700) instead of stderr
  --help                show this help
`;

const FLAGS = {
  home: { type: 'string' },
  dev: { type: 'string', multiple: true },
  grant: { type: 'string', multiple: true },
  'allow-net': { type: 'string', multiple: true },
  'allow-fs': { type: 'string', multiple: true },
  'rate-limit': { type: 'string' },
  policy: { type: 'string', multiple: true },
  'no-prefix': { type: 'boolean' },
  workers: { type: 'string' },
  'no-cpu-binding': { type: 'boolean' },
  'log-level': { type: 'string' },
  'log-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function devAllowance(flags: Record<string, unknown>): DevAllowance {
  const slots: Record<string, string> = {};
  for (const g of (flags.grant as string[] | undefined) ?? []) {
    const m = /^([a-z][a-zA-Z0-9_-]{0,31})=(.+)$/.exec(g);
    if (!m) throw new HostError('USAGE', `--grant expects SLOT=PATH, got "${g.slice(0, 100)}"`);
    slots[m[1] as string] = m[2] as string;
  }
  const net = flags['allow-net'] as string[] | undefined;
  const fs = flags['allow-fs'] as string[] | undefined;
  return { slots, ...(net ? { net } : {}), ...(fs ? { fs } : {}) };
}

function devWarning(dirs: readonly string[]): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    '!! mcp-warden: DEVELOPMENT MODE (--dev)',
    '!! These packages are NOT signed or verified. Their code runs in the sandbox with the',
    '!! capabilities their manifest asks for (network as requested unless --allow-net limits it).',
    '!! Use --dev only for packages you are writing yourself.',
    ...dirs.map((d) => `!!   ${d}`),
    bar,
    '',
  ].join('\n');
}

/** Prints a start-up failure as one line with its code and exits non-zero (2 for usage). */
function fail(io: CommandIO, e: unknown): number {
  const code = isHostError(e) ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  io.stderr.write(`mcp-warden serve: ${code}: ${message.split('\n')[0]?.slice(0, 1000)}\n`);
  return code === 'USAGE' || code === 'PREFIX_REQUIRED' ? 2 : 1;
}

/** `--no-prefix` needs exactly one served package: names without a namespace could collide otherwise. */
function prefixRefusal(count: number): HostError {
  return new HostError('PREFIX_REQUIRED', `--no-prefix serves exactly one package, but ${count} would be served (installed packages and --dev directories); drop --no-prefix or serve one package`);
}

/** The list page size: MCP_WARDEN_PAGE_SIZE (for tests and clients that want small pages), else 100. */
function pageSizeOf(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.MCP_WARDEN_PAGE_SIZE;
  if (raw === undefined || raw === '') return DEFAULT_PAGE_SIZE;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000) throw new HostError('USAGE', `MCP_WARDEN_PAGE_SIZE expects 1..10000, got "${raw.slice(0, 20)}"`);
  return n;
}

export async function run(argv: string[], io: CommandIO): Promise<number> {
  let flags: Record<string, unknown>;
  try {
    flags = parseFlags(argv, FLAGS).values;
  } catch (e) {
    io.stderr.write(`mcp-warden serve: USAGE: ${(e as Error).message}\nRun "mcp-warden serve --help" for usage.\n`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  let allowance: DevAllowance;
  const rate = flags['rate-limit'] === undefined ? undefined : parseRateLimit(flags['rate-limit'] as string);
  const workers = flags.workers === undefined ? undefined : Number(flags.workers);
  const level = (flags['log-level'] as string | undefined) ?? 'info';
  const noPrefix = flags['no-prefix'] === true;
  let pageSize: number;
  try {
    pageSize = pageSizeOf(io.env);
    allowance = devAllowance(flags);
    if (rate === null) throw new HostError('USAGE', '--rate-limit expects N/s or N/s:BURST');
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new HostError('USAGE', '--workers expects 1..64');
    if (!LOG_LEVELS.includes(level)) throw new HostError('USAGE', `--log-level expects one of ${LOG_LEVELS.join(', ')}`);
  } catch (e) {
    return fail(io, e);
  }

  const home = homeLayout(resolveHomeDir(flags.home as string | undefined, io.env, io.cwd));
  let logger: Logger;
  let audit: Audit;
  // The home's settings (host/home/config.ts), read once: an invalid or unsafe config.json stops serve.
  let config: WardenConfig;
  // The organisation policy (docs/policy.md), read once: present but unusable stops serve (fails closed).
  let policy: OrgPolicy;
  // Secret values (docs/secrets.md): held by this process only, put into the grants of the packages that
  // declare them; a store that cannot be opened (tampered, unsafe, key gone) stops serve like config.json.
  let secretValues: SecretValues;
  const readSecrets = async (): Promise<SecretValues> =>
    loadSecretValues(home, config.secrets, io.env, config.secrets.keychain && (await storeKeyKind(home)) === 'keychain' ? systemKeychain() : null);
  try {
    await prepareHome(home);
    config = await readConfig(home);
    policy = await loadOrgPolicy({ extraFiles: extraPolicyFiles(flags.policy as string[] | undefined, io.env, io.cwd) });
    secretValues = await readSecrets();
    logger = createLogger({ level, ...(flags['log-file'] ? { file: resolve(io.cwd, flags['log-file'] as string) } : {}) });
    audit = await openAudit(home.auditLog, home.auditKey, { config: config.audit, warn: (m) => io.stderr.write(`mcp-warden: warning: ${m}\n`) });
  } catch (e) {
    return fail(io, e);
  }
  const redact = createRedactor({ env: io.env, paths: [home.dir, io.cwd], secrets: () => secretValues.all() });
  const devDirs = (flags.dev as string[] | undefined) ?? [];
  // --no-prefix must know what it would serve before serving; otherwise lock.json is read after
  // initialize is answered (re-verifying installed packages takes time).
  const installedEarly = noPrefix ? await installedSources(home, io, logger) : undefined;
  if (installedEarly && installedEarly.length + devDirs.length !== 1) {
    await audit.close();
    return fail(io, prefixRefusal(installedEarly.length + devDirs.length));
  }
  if (devDirs.length > 0) io.stderr.write(devWarning(devDirs));

  // Worker exits are expected while the sandbox closes: not worth a warning then.
  let closing = false;
  // Workers start in the background once the packages are loaded (so the spawns do not compete with the
  // handshake and the verification for the two cores): a package's first call then pays only for its isolate.
  let startedUp: () => void = () => {};
  const afterStartup = new Promise<void>((resolve) => {
    startedUp = resolve;
  });
  const sandbox = createSandbox({
    circuitBreaker: config.circuitBreaker,
    ...(workers !== undefined ? { workers } : {}),
    bindWorkers: flags['no-cpu-binding'] !== true,
    prewarm: afterStartup,
    onDiagnostic: (d) => {
      if (closing && d.kind === 'worker-exit') logger.debug({ kind: d.kind }, redact(d.detail));
      else logger.warn({ kind: d.kind }, redact(d.detail));
    },
  });
  const devSources: PackageSource[] = devDirs.map((dir) => ({ kind: 'dev', dir: dir.startsWith('/') ? dir : `${io.cwd}/${dir}`, grantOverrides: allowance }));
  const loadOptions = { home, verify: verifyInstalled, policy, ...(noPrefix ? { prefix: false } : {}) };

  /** Loads packages with the home's DLP policy (config.json, section dlp) in each one's grant. */
  const load = async (sources: PackageSource[]): Promise<Awaited<ReturnType<typeof loadAll>>> => {
    // trust.json read once per load, not once per package (every package judged against one reading).
    const loaded = await loadAll(sources, { ...loadOptions, verify: verifierForOneLoad() });
    // Re-read at each load (a reload after `secret set`); a store that fails now keeps the values held.
    secretValues = await readSecrets().catch((e: unknown) => {
      io.stderr.write(`mcp-warden: warning: secrets not reloaded: ${isHostError(e) ? `${e.code}: ` : ''}${redact(e instanceof Error ? e.message : String(e))}\n`);
      return secretValues;
    });
    return { ...loaded, packages: withSecrets(withDlpPolicies(loaded.packages, config.dlp), secretValues) };
  };
  const registry = createRegistry([]);
  // Quarantine (host/serve/quarantine-guard.ts): packages held out of service, and the audit that counts.
  const held = createRegistry([]);
  let onTrip: (pkg: string, reason: string, written: Promise<void>) => void = () => {};
  const guard = createQuarantineGuard({ home, config: config.quarantine, audit, logger, onTrip: (t, written) => onTrip(t.package, t.reason, written) });
  /** Every loaded package, served or held: what a trip or an `enable` re-splits. */
  let loadedAll: LoadedPackage[] = [];
  const splitServed = (packages: LoadedPackage[]): LoadedPackage[] => {
    loadedAll = packages;
    const { served, held: out } = guard.split(packages);
    held.replace(out);
    if (guard.problem) io.stderr.write(`mcp-warden: not serving any package: ${guard.problem}\n`);
    for (const p of out) if (guard.entry(p.name)) logger.warn({ package: p.name, reason: guard.entry(p.name)?.reason }, `package quarantined; re-enable with "mcp-warden enable ${p.name}"`);
    return served;
  };
  // Re-verifying installed packages takes time (all their files are re-hashed): initialize is answered
  // at once, and tools/list and tools/call wait for this first load (server.ts, `ready`).
  let devPackages: LoadedPackage[] = [];
  const ready = (async () => {
    // Installed packages first: a --dev package cannot shadow an installed one.
    const initial = await load([...(installedEarly ?? (await installedSources(home, io, logger))), ...devSources]);
    const logLoaded = reportLoad(initial.packages, initial.refused, io, audit, logger);
    // What was loaded and refused is on record before tools/list can answer.
    await audit.drain();
    if (initial.packages.length === 0) io.stderr.write(`mcp-warden: no packages to serve in the home ${home.dir} (install one there, point --home or MCP_WARDEN_HOME at another home, or use --dev PKG_DIR)\n`);
    devPackages = initial.packages.filter((p) => p.origin === 'dev');
    await guard.refresh();
    registry.replace(splitServed(initial.packages));
    // After the first answer (a turn later: tools/list waits for `ready` in microtasks): the log lines,
    // then the validators compile in the background (each also compiles on first use).
    setImmediate(() => {
      logLoaded();
      logger.info({ tools: registry.size() }, 'packages loaded');
      setTimeout(() => void warmValidators(registry.packages()), 50).unref();
    });
  })();
  void ready.finally(() => setImmediate(startedUp));
  // A large result's text is serialized on a thread of its own while DLP scans it (serve/reply-json.ts).
  const jsonThread = createJsonThread();
  const replyJson = createReplyJson(jsonThread);
  const transport = new BoundedStdioTransport(io.stdin ?? process.stdin, io.stdout, { requestSchemas: REQUEST_SCHEMAS, line: replyJson.line });
  const session = new SessionTransport(transport);
  // One per-package budget for tools/call and the feature handlers (serve --rate-limit; none by default).
  const limiter = rate ? createRateLimiter(rate) : undefined;
  const features = createFeatures({ registry, sandbox, audit: guard.audit, logger, redact, ...(limiter ? { limiter } : {}) });
  const connection = createConnection({
    registry,
    sandbox,
    audit: guard.audit,
    quarantined: held,
    logger,
    redact,
    features,
    paginator: createPaginator({ pageSize }),
    version: VERSION,
    ready,
    argumentsOf: (id) => session.takeArguments(id),
    replyJson,
    ...(limiter ? { limiter } : {}),
    // Capabilities asked at first use: answers stored in the sealed lock entry (docs/consent.md).
    consent: createConsentStore({ home, ceiling: policyCeiling(policy), onWriteError: (pkg, e) => logger.warn({ package: pkg, err: redact(e instanceof Error ? e.message : String(e)).slice(0, 300) }, 'a consent answer was not stored') }),
  });

  // Reload installed packages when lock.json changes (install, remove, grant) and tell the client.
  let reloading: Promise<void> = ready.catch(() => {});
  const reload = (): void => {
    reloading = reloading.then(async () => {
      const next = await load(await installedSources(home, io, logger));
      // Installed packages win: a --dev package that now clashes with one is dropped.
      const taken = new Set(next.packages.flatMap((p) => [p.name, ...servedClaims(p).map((c) => c.key)]));
      const keptDev = devPackages.filter((d) => !taken.has(d.name) && !servedClaims(d).some((c) => taken.has(c.key)));
      reportLoad(next.packages, next.refused, io, audit, logger)();
      await audit.drain();
      const packages = [...next.packages, ...keptDev];
      if (noPrefix && packages.length > 1) {
        const refusal = prefixRefusal(packages.length);
        io.stderr.write(`mcp-warden: ${refusal.code}: ${refusal.message}; still serving what was served\n`);
        return;
      }
      devPackages = keptDev;
      await guard.refresh();
      await publish(packages);
    });
  };
  /** Serves `packages` minus the quarantined ones and tells the clients what changed. */
  const publish = async (packages: LoadedPackage[]): Promise<void> => {
    const loadedBefore = loadedAll;
    const before = registry.packages();
    // What the old packages served, read before they are replaced (resources/updated for them).
    const resourcesBefore = features.listResources().map((r) => ({ uri: r.uri, pkg: features.packageOfUri(r.uri) }));
    registry.replace(splitServed(packages));
    const served = registry.packages();
    // Which lists changed: the registry compares each one's answer before and after (registry.ts).
    const { tools: toolsChanged, resources: resourcesChanged, prompts: promptsChanged } = registry.lastChanges();
    const changed = new Set(before.filter((old) => !served.some((p) => p.name === old.name && p.code.id === old.code.id)).map((p) => p.name));
    for (const old of loadedBefore) if (!packages.some((p) => p.code.id === old.code.id)) await sandbox.unload(old.code.id).catch(() => {});
    await connection.announce({
      tools: toolsChanged,
      resources: resourcesChanged,
      prompts: promptsChanged,
      packages: changed,
      uris: resourcesBefore.filter((r) => r.pkg !== undefined && changed.has(r.pkg)).map((r) => r.uri),
    });
    if (toolsChanged || resourcesChanged || promptsChanged || changed.size > 0) logger.info({ tools: registry.size(), packagesChanged: changed.size }, 'served lists changed');
  };
  // A trip: once on disk, out of the lists, and the clients are told (a warning, and list_changed).
  onTrip = (pkg, reason, written) => {
    reloading = reloading.then(async () => {
      await written;
      await publish(loadedAll);
      const data = `mcp-warden: the package ${pkg} was quarantined (${reason}); its tools, resources and prompts are disabled until the user runs "mcp-warden enable ${pkg}"`;
      await Promise.allSettled([...connection.live().keys()].map((server) => server.sendLoggingMessage({ level: 'warning', logger: 'mcp-warden', data })));
    });
  };
  let timer: NodeJS.Timeout | undefined;
  // Follows the home across a delete and re-create (host/home/watch.ts).
  const watcher = watchHome(home, () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 200);
  });
  if (!watcher) logger.warn('cannot watch the home directory; restart serve after installing packages');

  // One stdio connection, either revision: serveStdio pins the era the client opens with (initialize:
  // 2025-11-25; a request with the 2026-07-28 _meta: 2026-07-28) and builds its server from the factory.
  const handle = serveStdio(connection.factory, {
    transport: session,
    onerror: (e) => logger.debug({ err: redact(String(e.message)).slice(0, 300) }, 'protocol error'),
  });
  const onSignal = (): void => {
    void handle.close();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('SIGHUP', reload);
  logger.info({ version: VERSION }, 'serving on stdio');
  await session.closed;
  await handle.close().catch(() => {});

  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', reload);
  clearTimeout(timer);
  watcher?.close();
  await reloading.catch(() => {});
  closing = true;
  await sandbox.close().catch(() => {});
  await jsonThread.close();
  await audit.close();
  logger.info('stopped');
  return 0;
}
