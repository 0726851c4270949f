// `npm run build`, after `vite build`: writes NAME.br (brotli) and NAME.gz (gzip) beside each
// compressible file of the build, at the strongest settings, once, so the backend sends them
// to browsers that accept them without compressing anything per request (backend/core/spa.py).
// Only the build's files are compressed, never an API answer (BREACH, see README).
//
//   node scripts/precompress.mjs [dist]
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const COMPRESSIBLE = new Set([".js", ".mjs", ".css", ".html", ".svg", ".json", ".txt", ".map", ".xml"]);
const MIN_BYTES = 1024; // below this a twin saves a few hundred bytes at most, often nothing

const dist = path.resolve(process.argv[2] ?? "dist");

function brotli(data) {
  return zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
}

const gzip = (data) => zlib.gzipSync(data, { level: zlib.constants.Z_BEST_COMPRESSION });

let files = 0;
const totals = { original: 0, br: 0, gz: 0 };
for (const entry of fs.readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !COMPRESSIBLE.has(path.extname(entry.name))) continue; // .br, .gz too
  const file = path.join(entry.parentPath ?? entry.path, entry.name);
  const data = fs.readFileSync(file);
  if (data.length < MIN_BYTES) continue;
  files += 1;
  totals.original += data.length;
  for (const [suffix, compress] of [[".br", brotli], [".gz", gzip]]) {
    const twin = compress(data);
    if (twin.length < data.length) {
      fs.writeFileSync(file + suffix, twin);
      totals[suffix.slice(1)] += twin.length;
    } else {
      fs.rmSync(file + suffix, { force: true }); // no gain: the file goes out as it is
    }
  }
}
const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
console.log(
  `precompressed ${files} files in ${path.relative(process.cwd(), dist) || "."}: ` +
    `${kB(totals.original)} -> ${kB(totals.br)} brotli, ${kB(totals.gz)} gzip`,
);
