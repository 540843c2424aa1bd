/**
 * `mcp-warden audit verify|tail`: checks the audit trail's hash chain and HMACs (host/serve/audit-chain.ts),
 * and shows recent records readably.
 *
 * The records are the home's, but some of their text comes from packages (names, tools, fetched URLs):
 * everything shown on a terminal is stripped of control characters first.
 */
import { watch } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HostError, errnoOf } from '../errors.ts';
import { readConfig } from '../home/config.ts';
import { homeLayout, resolveHomeDir } from '../home/home.ts';
import type { Home } from '../home/home.ts';
import { assertSafe } from '../home/modes.ts';
import { printable } from '../install/consent.ts';
import { recordKey, verifyChain } from '../serve/audit-chain.ts';
import type { LogFile } from '../serve/audit-chain.ts';
import { readAuditKey } from '../serve/audit-key.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden audit verify [--home DIR] [--json]
       mcp-warden audit tail [--package NAME] [--lines N] [--follow] [--home DIR] [--json]

verify  checks every record of the audit trail (<home>/audit.log.N … audit.log.1, audit.log): its HMAC
        under the home's audit.key and its link to the previous record of the serve that wrote it. Names
        each edited, removed, reordered or truncated record by file and line.
        Exit 0: intact; 1: a problem was found (AUDIT_TAMPERED) or the home is unusable.
tail    shows the last records (calls, capability uses, packages loaded or refused) readably;
        --follow keeps showing new ones as serves write them, until Ctrl-C.

Options:
  --package NAME   tail: only this package's records
  --lines N        tail: how many records to show first (default 20)
  --follow         tail: wait for new records (across rotation) until interrupted
  --home DIR       home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json           verify: the report as JSON; tail: one record per line, as written
  --help           show this help
`;

const OPTIONS = { ...HOME_OPTION, package: { type: 'string' }, lines: { type: 'string' }, follow: { type: 'boolean' } } as const;

/** The rotated files present (their numbers, oldest first) and whether audit.log itself exists. */
async function logFiles(home: Home): Promise<{ rotated: number[]; current: boolean }> {
  const names = await readdir(home.dir).catch((e: unknown) => {
    if (errnoOf(e) === 'ENOENT') return [] as string[];
    throw e;
  });
  const base = basename(home.auditLog);
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)) ? Number(n.slice(base.length + 1)) : NaN))
    .filter((n) => Number.isSafeInteger(n) && n >= 1)
    .sort((a, b) => b - a);
  return { rotated, current: names.includes(base) };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === 'EPERM';
  }
}

async function verify(home: Home, io: CommandIO, json: boolean): Promise<number> {
  await assertSafe(home.dir);
  const config = await readConfig(home);
  const { rotated, current } = await logFiles(home);
  const names = [...rotated.map((n) => `${basename(home.auditLog)}.${n}`), ...(current ? [basename(home.auditLog)] : [])];
  if (names.length === 0) {
    if (json) writeJson(io, { ok: true, records: 0, files: [], problems: [], notes: ['no audit log'] });
    else io.stdout.write('no audit log in this home yet\n');
    return 0;
  }
  await assertSafe(home.auditKey);
  const key = await readAuditKey(home.auditKey);
  if (key === null) throw new HostError('AUDIT_TAMPERED', 'the audit key (audit.key) is missing or damaged: the records cannot be verified');
  const files: LogFile[] = [];
  for (const name of names) {
    await assertSafe(join(home.dir, name));
    files.push({ name, text: await readFile(join(home.dir, name), 'utf8') });
  }
  // Older files than the oldest kept one may have been deleted by rotation only if it is the last kept.
  const result = verifyChain(files, recordKey(key), { isRunning, rotatedAway: (rotated[0] ?? 0) >= config.audit.keep });
  if (json) {
    writeJson(io, result);
  } else {
    for (const p of result.problems.slice(0, 100)) io.stdout.write(`${p.file}:${p.line}: ${p.kind}: ${p.message}\n`);
    if (result.problems.length > 100) io.stdout.write(`… and ${result.problems.length - 100} more\n`);
    for (const n of result.notes) io.stdout.write(`note: ${n}\n`);
    if (result.ok) io.stdout.write(`${result.files.join(', ')}: ${result.records} records, intact\n`);
  }
  if (!result.ok) {
    const kinds = [...new Set(result.problems.map((p) => p.kind))].join(', ');
    io.stderr.write(`mcp-warden audit verify: AUDIT_TAMPERED: ${result.problems.length} problem(s) in the audit log (${kinds}); the first at ${result.problems[0]?.file}:${result.problems[0]?.line}\n`);
    return 1;
  }
  return 0;
}

type AuditRecord = Record<string, unknown>;

const str = (v: unknown, max = 120): string => printable(typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v), max);

/** One record as a line for a person, or null for the trail's own bookkeeping (opened, closed, rotated). */
export function describeRecord(r: AuditRecord): string | null {
  const head = `${str(r.time, 30)}  `;
  const what = `${str(r.package)}${r.tool !== undefined ? ` ${str(r.tool)}` : ''}`;
  switch (r.type) {
    case 'call':
      return `${head}call        ${what}${r.kind !== undefined ? ` (${str(r.kind, 20)})` : ''}  ${str(r.outcome, 60)}  ${typeof r.durationMs === 'number' ? `${r.durationMs} ms` : ''}`.trimEnd();
    case 'capability':
      return `${head}capability  ${what}  ${str(r.kind, 10)} ${str(r.op, 20)} ${str(r.target, 300)}  ${r.allowed === true ? 'allowed' : `DENIED${r.code !== undefined ? ` ${str(r.code, 60)}` : ''}`}`;
    case 'package':
      return `${head}package     ${what} ${str(r.event, 20)}${r.origin !== undefined ? ` (${str(r.origin, 20)})` : ''}${r.code !== undefined ? ` ${str(r.code, 60)}` : ''}`;
    case 'audit':
      return r.event === 'recovered' ? `${head}audit       ${str(r.lost, 20)} record(s) lost to a failed write` : null;
    default:
      return `${head}${str(r.type, 20)}  ${str(r, 300)}`;
  }
}

function parseLine(line: string): AuditRecord | null {
  if (line.trim() === '') return null;
  try {
    const r = JSON.parse(line) as unknown;
    return r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as AuditRecord) : null;
  } catch {
    return null;
  }
}

function shown(r: AuditRecord, pkg: string | undefined, json: boolean): boolean {
  if (pkg !== undefined && r.package !== pkg) return false;
  // The trail's own bookkeeping is shown with --json only, and then only without --package.
  return json || describeRecord(r) !== null;
}

function print(io: CommandIO, line: string, r: AuditRecord, json: boolean): void {
  io.stdout.write(`${json ? line : describeRecord(r)}\n`);
}

/**
 * The rotated files newer than the one whose inode is `ino`, oldest first: audit.log.<k-1> … audit.log.1
 * when that one is audit.log.<k>; every kept rotated file when rotation deleted it (all older ones went
 * before it).
 */
async function newerRotations(home: Home, ino: number): Promise<string[]> {
  const newer: string[] = [];
  for (let k = 1; k <= 1000; k++) {
    const path = `${home.auditLog}.${k}`;
    const info = await stat(path).catch(() => null);
    if (info === null || info.ino === ino) break;
    newer.push(path);
  }
  return newer.reverse();
}

/**
 * Follows audit.log: on each change in the home directory, the new bytes of the file it has open; after a
 * rotation (audit.log is another file now) the rest of the renamed file first, then the new file from
 * its start, so no record written around a rotation is missed.
 */
async function follow(home: Home, io: CommandIO, pkg: string | undefined, json: boolean, offset: number): Promise<number> {
  let fh: FileHandle | null = await open(home.auditLog, 'r').catch(() => null);
  let rest = '';
  const emit = (text: string): void => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const r = parseLine(line);
      if (r && shown(r, pkg, json)) print(io, line, r, json);
    }
  };
  /** Reads what was appended to the open file since `offset`. */
  const drain = async (handle: FileHandle): Promise<void> => {
    const size = (await handle.stat()).size;
    if (size < offset) offset = 0; // truncated in place: start over
    while (offset < size) {
      const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      emit(buf.subarray(0, bytesRead).toString('utf8'));
    }
  };
  const readNew = async (): Promise<void> => {
    if (fh) await drain(fh);
    const named = await stat(home.auditLog).catch(() => null);
    if (named === null) return; // between a rotation's rename and the new file
    const oldIno = fh ? (await fh.stat()).ino : null;
    if (named.ino === oldIno) return;
    // audit.log is a new file (rotated, or created). Several rotations may have happened since the last
    // look: the files rotated after the one we had open (audit.log.<k-1> … audit.log.1) come first.
    // What was appended to the old file between our read and its rotation comes first.
    if (fh) await drain(fh);
    await fh?.close();
    fh = null;
    for (const path of [...(oldIno === null ? [] : await newerRotations(home, oldIno)), home.auditLog]) {
      const handle = await open(path, 'r').catch(() => null);
      if (!handle) continue;
      offset = 0;
      rest = '';
      await drain(handle);
      if (path === home.auditLog) fh = handle;
      else await handle.close();
    }
  };
  let reading: Promise<void> = Promise.resolve();
  const next = (): void => {
    reading = reading.then(readNew).catch(() => {});
  };
  return new Promise<number>((resolve) => {
    // Watch the directory, not the file: rotation renames the file and a serve creates a new one.
    const watcher = watch(home.dir, (_event, name) => {
      if (name === null || name === basename(home.auditLog)) next();
    });
    // Anything written between the first read and the watch starting.
    next();
    const stop = (): void => {
      watcher.close();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void reading.then(async () => {
        await fh?.close();
        resolve(0);
      });
    };
    watcher.on('error', stop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function tail(home: Home, io: CommandIO, flags: { package?: string; lines?: string; follow?: boolean }, json: boolean): Promise<number> {
  const count = flags.lines === undefined ? 20 : Number(flags.lines);
  if (!Number.isSafeInteger(count) || count < 0 || count > 100_000) throw new HostError('USAGE', '--lines expects 0..100000');
  await assertSafe(home.dir);
  const { rotated, current } = await logFiles(home);
  // The newest records: audit.log, and the newest rotated file when audit.log alone holds too few.
  const picked: { line: string; r: AuditRecord }[] = [];
  let offset = 0;
  if (current) {
    const fh = await open(home.auditLog, 'r');
    try {
      const text = (await fh.readFile()).toString('utf8');
      // Only complete lines: --follow goes on from the end of the last one.
      const end = text.lastIndexOf('\n') + 1;
      offset = Buffer.byteLength(text.slice(0, end));
      for (const line of text.slice(0, end).split('\n')) {
        const r = parseLine(line);
        if (r && shown(r, flags.package, json)) picked.push({ line, r });
      }
    } finally {
      await fh.close();
    }
  }
  if (picked.length < count && rotated.length > 0) {
    const text = await readFile(`${home.auditLog}.${rotated.at(-1)}`, 'utf8').catch(() => '');
    const older: { line: string; r: AuditRecord }[] = [];
    for (const line of text.split('\n')) {
      const r = parseLine(line);
      if (r && shown(r, flags.package, json)) older.push({ line, r });
    }
    picked.unshift(...older);
  }
  for (const { line, r } of count === 0 ? [] : picked.slice(-count)) print(io, line, r, json);
  if (!flags.follow) {
    if (picked.length === 0 && !json) io.stdout.write('no audit records\n');
    return 0;
  }
  return follow(home, io, flags.package, json, offset);
}

export const run = defineCommand('audit', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  const [sub, ...rest] = positionals;
  if (rest.length > 0) throw new HostError('USAGE', `audit ${sub ?? ''} takes no argument`);
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  switch (sub) {
    case 'verify':
      if (values.package !== undefined || values.lines !== undefined || values.follow) throw new HostError('USAGE', '--package, --lines and --follow are options of audit tail');
      return verify(home, io, json);
    case 'tail':
      return tail(home, io, { ...(values.package !== undefined ? { package: values.package } : {}), ...(values.lines !== undefined ? { lines: values.lines } : {}), ...(values.follow ? { follow: true } : {}) }, json);
    default:
      throw new HostError('USAGE', sub === undefined ? 'audit expects verify or tail' : `unknown audit command "${printable(sub, 40)}"`);
  }
});
