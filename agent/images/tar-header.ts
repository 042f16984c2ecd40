// Decoding of tar headers: the 512-byte ustar/GNU block, octal and base-256 numbers,
// and pax extended records. Strict: a bad checksum or a malformed field is an error,
// never a guess.
//
//   offset  size  field            offset  size  field
//        0   100  name                257     6  magic ("ustar\0" POSIX, "ustar " GNU)
//      100     8  mode                263     2  version
//      108     8  uid                 265    32  uname
//      116     8  gid                 297    32  gname
//      124    12  size                329     8  devmajor
//      136    12  mtime               337     8  devminor
//      148     8  checksum            345   155  prefix (POSIX ustar only)
//      156     1  typeflag
//      157   100  linkname

export const BLOCK = 512;

export interface RawHeader {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

/** A field that cannot be decoded: the caller adds where it was. */
export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

/** Octal digits (space/NUL padded) or GNU base-256 (high bit of the first byte set). */
export function parseNumber(field: Buffer, what: string): number {
  if (field.length > 0 && (field[0]! & 0x80) !== 0) {
    if (field[0] === 0xff) throw new TarFormatError(`negative ${what} in base-256 form`);
    let v = BigInt(field[0]! & 0x7f);
    for (let i = 1; i < field.length; i++) v = (v << 8n) | BigInt(field[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`${what} too large`);
    return Number(v);
  }
  const s = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`${what} is not an octal number: ${JSON.stringify(s)}`);
  const v = parseInt(s, 8);
  if (!Number.isSafeInteger(v)) throw new TarFormatError(`${what} too large`);
  return v;
}

function checksumOk(block: Buffer): boolean {
  let stored: number;
  try {
    stored = parseNumber(block.subarray(148, 156), 'checksum');
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  // Some old tars summed signed bytes; both are accepted, as GNU tar does.
  return stored === unsigned || stored === signed;
}

export function decodeHeader(block: Buffer): RawHeader {
  if (block.length !== BLOCK) throw new Error('bug: a tar header is 512 bytes');
  if (!checksumOk(block)) throw new TarFormatError('header checksum mismatch (not a tar archive, or corrupt)');
  const magic = block.subarray(257, 263).toString('latin1');
  let name = text(block, 0, 100);
  // The prefix field exists in POSIX ustar only; GNU uses those bytes for other things.
  if (magic === 'ustar\0') {
    const prefix = text(block, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: parseNumber(block.subarray(100, 108), 'mode'),
    uid: parseNumber(block.subarray(108, 116), 'uid'),
    gid: parseNumber(block.subarray(116, 124), 'gid'),
    size: parseNumber(block.subarray(124, 136), 'size'),
    mtime: parseNumber(block.subarray(136, 148), 'mtime'),
    typeflag: String.fromCharCode(block[156]!),
    linkname: text(block, 157, 100),
    devmajor: magic.startsWith('ustar') ? parseNumber(block.subarray(329, 337), 'devmajor') : 0,
    devminor: magic.startsWith('ustar') ? parseNumber(block.subarray(337, 345), 'devminor') : 0,
  };
}

/**
 * pax records: `LENGTH KEY=VALUE\n`, LENGTH counting the whole record. Values are raw
 * bytes (xattr values are binary); keys are UTF-8.
 */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    // Trailing NUL padding after the last record is tolerated.
    if (data[pos] === 0) {
      if (isZeroBlock(data.subarray(pos))) break;
      throw new TarFormatError('NUL byte inside pax records');
    }
    const space = data.indexOf(0x20, pos);
    if (space === -1 || space - pos > 20) throw new TarFormatError('malformed pax record (no length)');
    const lengthText = data.subarray(pos, space).toString('latin1');
    if (!/^[0-9]+$/.test(lengthText)) throw new TarFormatError(`malformed pax record length ${JSON.stringify(lengthText)}`);
    const length = parseInt(lengthText, 10);
    const end = pos + length;
    if (length <= space - pos + 1 || end > data.length || data[end - 1] !== 0x0a) throw new TarFormatError('malformed pax record (bad length)');
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError('malformed pax record (no key)');
    out.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
    pos = end;
  }
  return out;
}

/** A decimal pax number (size, uid, gid) or time (mtime may have a fraction). */
export function paxNumber(value: Buffer, key: string, fractional = false): number {
  const s = value.toString('latin1');
  const re = fractional ? /^-?[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  if (!re.test(s)) throw new TarFormatError(`pax ${key} is not a number: ${JSON.stringify(s)}`);
  const v = fractional ? parseFloat(s) : parseInt(s, 10);
  if (!Number.isFinite(v) || (!fractional && !Number.isSafeInteger(v))) throw new TarFormatError(`pax ${key} too large`);
  return v;
}
