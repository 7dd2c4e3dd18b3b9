// Writes .br and .gz siblings of the build's text files (over 1 KiB), kept
// only when smaller than the original, so the server can send them as is
// to browsers that accept them. node:zlib only.
import { readdir, readFile, stat, writeFile, unlink } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const webRoot = resolve(import.meta.dirname, '..');
const outDir = process.env.PARLEY_WEB_OUT ? resolve(process.env.PARLEY_WEB_OUT) : resolve(webRoot, '../build/web');
const TEXT = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.txt', '.xml', '.map', '.webmanifest', '.ico']);
const MIN_BYTES = 1024;

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

async function main() {
  try {
    await stat(outDir);
  } catch {
    console.error(`precompress: ${outDir} does not exist (run vite build first)`);
    process.exit(1);
  }
  const rows = [];
  for await (const file of walk(outDir)) {
    if (file.endsWith('.br') || file.endsWith('.gz')) continue;
    if (!TEXT.has(extname(file).toLowerCase())) continue;
    const data = await readFile(file);
    const row = { file: relative(outDir, file), size: data.length, gz: null, br: null };
    rows.push(row);
    for (const [ext, compress] of [
      ['.gz', (d) => gzipSync(d, { level: 9 })],
      [
        '.br',
        (d) =>
          brotliCompressSync(d, {
            params: {
              [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
              [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
              [constants.BROTLI_PARAM_SIZE_HINT]: d.length,
            },
          }),
      ],
    ]) {
      const target = file + ext;
      if (data.length <= MIN_BYTES) {
        await unlink(target).catch(() => {});
        continue;
      }
      const packed = compress(data);
      if (packed.length < data.length) {
        await writeFile(target, packed);
        row[ext.slice(1)] = packed.length;
      } else {
        await unlink(target).catch(() => {});
      }
    }
  }
  rows.sort((a, b) => a.file.localeCompare(b.file));
  const width = Math.max(...rows.map((r) => r.file.length), 4);
  console.log(`precompressed ${outDir}`);
  console.log(`${'file'.padEnd(width)}  ${'size'.padStart(10)}  ${'gzip'.padStart(10)}  ${'brotli'.padStart(10)}`);
  for (const r of rows)
    console.log(
      `${r.file.padEnd(width)}  ${kb(r.size).padStart(10)}  ${(r.gz ? kb(r.gz) : '-').padStart(10)}  ${(r.br ? kb(r.br) : '-').padStart(10)}`,
    );
}

await main();
