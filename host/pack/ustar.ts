/**
 * The ustar header format (POSIX.1-1988), just the part mcp-warden writes and accepts. Kept small on
 * purpose: the reader in extract.ts sees every field an attacker controls, instead of trusting a general
 * tar library's notion of what is safe.
 */

export const BLOCK = 512;

/** Type flags. Only regular files, directories and pax extended headers are ever accepted. */
export const TYPE_FILE = '0';
export const TYPE_FILE_OLD = '\0';
export const TYPE_DIRECTORY = '5';
export const TYPE_PAX = 'x';

export interface HeaderFields {
  /** Full path (name, or prefix + "/" + name). */
  readonly path: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly type: string;
}

function writeString(buf: Buffer, value: string, offset: number, length: number): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RangeError('tar header field too long');
  bytes.copy(buf, offset);
}

function writeOctal(buf: Buffer, value: number, offset: number, length: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new RangeError('tar header number too large');
  buf.write(`${digits}\0`, offset, length, 'ascii');
}

/** Splits a path into ustar prefix (≤155 bytes) and name (≤100 bytes), or null if it cannot fit. */
function splitPath(path: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { prefix, name };
  }
  return null;
}

/** Encodes one ustar header block: uid/gid 0, no user or group names. */
export function encodeHeader(h: HeaderFields): Buffer {
  const split = splitPath(h.path);
  if (!split) throw new RangeError(`path too long for a ustar header: ${h.path.slice(0, 80)}…`);
  const buf = Buffer.alloc(BLOCK);
  writeString(buf, split.name, 0, 100);
  writeOctal(buf, h.mode, 100, 8);
  writeOctal(buf, 0, 108, 8);
  writeOctal(buf, 0, 116, 8);
  writeOctal(buf, h.size, 124, 12);
  writeOctal(buf, h.mtime, 136, 12);
  buf.write(h.type, 156, 1, 'ascii');
  buf.write('ustar\0', 257, 6, 'ascii');
  buf.write('00', 263, 2, 'ascii');
  writeString(buf, split.prefix, 345, 155);
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return buf;
}

function readString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** An octal field; NaN when it is not plain octal (base-256 sizes are refused: nothing we accept is that big). */
function readOctal(buf: Buffer, offset: number, length: number): number {
  const text = buf.subarray(offset, offset + length).toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]{1,12}$/.test(text)) return Number.NaN;
  return parseInt(text, 8);
}

export function isZeroBlock(block: Buffer): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

/** Decodes a header block; null when its checksum or magic is wrong (not a ustar header). */
export function decodeHeader(block: Buffer): HeaderFields | null {
  const stored = readOctal(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  if (stored !== sum) return null;
  if (block.toString('latin1', 257, 262) !== 'ustar') return null;
  const name = readString(block, 0, 100);
  const prefix = readString(block, 345, 155);
  return {
    path: prefix ? `${prefix}/${name}` : name,
    mode: readOctal(block, 100, 8),
    size: readOctal(block, 124, 12),
    mtime: readOctal(block, 136, 12),
    type: block.toString('latin1', 156, 157),
  };
}

/** Parses pax extended header records ("<len> <key>=<value>\n"); null when malformed. */
export function parsePax(data: Buffer): Map<string, string> | null {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) return null;
    const lenText = data.toString('latin1', pos, space);
    if (!/^[1-9][0-9]{0,8}$/.test(lenText)) return null;
    const len = parseInt(lenText, 10);
    const end = pos + len;
    if (end > data.length || data[end - 1] !== 0x0a) return null;
    const record = data.toString('utf8', space + 1, end - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) return null;
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos = end;
  }
  return out;
}
