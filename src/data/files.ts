// Reading text corpora (plain or gzip, streamed line by line, strictly UTF-8) and writing files atomically.
import { closeSync, createReadStream, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { gunzipSync, createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

/** A problem with input data; the message names the file and, where known, the 1-based line. */
export class DataError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(file === undefined ? message : `${file}${line === undefined ? '' : `:${line}`}: ${message}`);
    this.name = 'DataError';
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Describes a file-system error in words, e.g. "no such file". */
function reason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** Opens a file as a byte stream, gunzipping it when it starts with the gzip magic bytes. */
async function openBytes(path: string): Promise<Readable> {
  let fh: FileHandle;
  try { fh = await open(path, 'r'); } catch (err) { throw new DataError(`cannot read: ${reason(err)}`, path); }
  const head = Buffer.alloc(2);
  try { await fh.read(head, 0, 2, 0); } catch (err) { throw new DataError(`cannot read: ${reason(err)}`, path); } finally { await fh.close(); }
  const raw = createReadStream(path);
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

/** Options for reading lines. */
export interface ReadLinesOptions { /** Accept an input with no lines instead of failing (default false). */ allowEmpty?: boolean; }

/**
 * Streams the lines of a byte stream as strings (without '\n' and a trailing '\r'), failing with the line number
 * on invalid UTF-8. A BOM is kept as U+FEFF. `name` is used in error messages.
 */
export async function* readLinesFrom(stream: Readable, name: string, options: ReadLinesOptions = {}): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let lineNo = 0;
  let pending: Buffer[] = [];
  const decodeLine = (bytes: Uint8Array): string => {
    lineNo++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    try { return decoder.decode(bytes.subarray(0, end)); } catch { throw new DataError('invalid UTF-8', name, lineNo); }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        yield decodeLine(pending.length > 0 ? Buffer.concat([...pending, piece]) : piece);
        pending = [];
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot read: ${reason(err)}`, name, lineNo + 1);
  }
  if (pending.length > 0) yield decodeLine(Buffer.concat(pending));
  if (lineNo === 0 && !options.allowEmpty) throw new DataError('file is empty', name);
}

/** Streams the lines of a text file (plain or gzip); see readLinesFrom. */
export async function* readLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<string> {
  yield* readLinesFrom(await openBytes(path), path, options);
}

/** Reads all lines of a text file (plain or gzip) into memory. */
export async function readAllLines(path: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(path)) lines.push(line);
  return lines;
}

/** One aligned line pair of a parallel corpus. */
export interface LinePair { src: string; tgt: string; }

/** Streams aligned line pairs from two files; fails, naming both files, when their line counts differ. */
export async function* readParallel(srcPath: string, tgtPath: string): AsyncGenerator<LinePair> {
  const src = readLines(srcPath), tgt = readLines(tgtPath);
  try {
    for (let n = 0; ; n++) {
      const [a, b] = await Promise.all([src.next(), tgt.next()]);
      if (a.done && b.done) return;
      if (a.done || b.done) {
        const [short, long] = a.done ? [srcPath, tgtPath] : [tgtPath, srcPath];
        throw new DataError(`parallel files differ in length: ${short} has ${n} lines, ${long} has more`, long, n + 1);
      }
      yield { src: a.value, tgt: b.value };
    }
  } finally {
    await Promise.allSettled([src.return(undefined), tgt.return(undefined)]);
  }
}

/** Reads a whole text file (plain or gzip) as a string, failing with the line number on invalid UTF-8. */
export async function readText(path: string): Promise<string> {
  let bytes: Buffer;
  try { bytes = await readFile(path); } catch (err) { throw new DataError(`cannot read: ${reason(err)}`, path); }
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try { bytes = gunzipSync(bytes); } catch (err) { throw new DataError(`bad gzip data: ${reason(err)}`, path); }
  }
  if (bytes.length === 0) throw new DataError('file is empty', path);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const lineNo = firstInvalidLine(bytes);
    throw new DataError('invalid UTF-8', path, lineNo);
  }
}

/** The 1-based number of the first line of `bytes` that is not valid UTF-8. */
function firstInvalidLine(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let lineNo = 1; ; lineNo++) {
    const nl = bytes.indexOf(10, start);
    const end = nl < 0 ? bytes.length : nl;
    try { decoder.decode(bytes.subarray(start, end)); } catch { return lineNo; }
    if (nl < 0) return lineNo;
    start = nl + 1;
  }
}

/** A temporary path beside `path`, for writing before an atomic rename. */
function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

/** writeFileAtomicSync as a promise, for async callers. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  writeFileAtomicSync(path, data);
}

/**
 * Writes a file atomically and durably: a temporary file beside it is written, fsynced and renamed over `path`,
 * then the directory is fsynced; a reader sees the old file or the complete new one. On failure the temporary
 * is removed and the error rethrown.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* never created, or already renamed */ }
    throw err;
  }
  syncDirectory(dir);
}

/** Makes a rename durable by fsyncing the directory (best effort: not every platform allows it). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* e.g. Windows cannot open a directory */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A buffered text writer to a temporary file that becomes `path` only on commit(). */
export class AtomicWriter {
  private chunks: string[] = [];
  private size = 0;

  private constructor(readonly path: string, private readonly tmp: string, private readonly fh: FileHandle) {}

  /** Opens a writer for `path`. */
  static async create(path: string): Promise<AtomicWriter> {
    const tmp = tempPathFor(path);
    return new AtomicWriter(path, tmp, await open(tmp, 'w'));
  }

  /** Appends text. */
  async write(text: string): Promise<void> {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  /** Finishes the file and renames it into place. */
  async commit(): Promise<void> {
    await this.flush();
    await this.fh.close();
    await rename(this.tmp, this.path);
  }

  /** Discards the temporary file; the destination is left untouched. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    await this.fh.write(this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }
}
