// SVGO 4 (npm) as the bench's SVG peer, with its default preset and nothing else. Reads
// {"svgo_dir", "images": [{"input", "output"}]} as JSON on stdin, writes
// {"version", "images": [{"input", "bytes", "seconds", "error"}]} as JSON on stdout. Each file is
// timed from its bytes in memory to its optimized string (no file I/O in the clock), as the
// Python contenders are. Run by bench/svg_peer.py, never by hand.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";

const job = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(join(job.svgo_dir, "package.json"));
const { optimize } = require("svgo");
const version = JSON.parse(
  readFileSync(join(job.svgo_dir, "node_modules", "svgo", "package.json"), "utf8")).version;

const isGzip = (buf) => buf.length > 2 && buf[0] === 0x1f && buf[1] === 0x8b;
optimize('<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'); // warm-up

const images = [];
for (const im of job.images) {
  const raw = readFileSync(im.input);
  const gz = isGzip(raw);
  const text = (gz ? gunzipSync(raw) : raw).toString("utf8");
  const t0 = process.hrtime.bigint();
  try {
    const out = optimize(text, { path: im.input }).data;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const bytes = Buffer.from(out, "utf8");
    mkdirSync(dirname(im.output), { recursive: true });
    writeFileSync(im.output, gz ? gzipSync(bytes, { level: 9 }) : bytes);
    images.push({ input: im.input, bytes: bytes.length, seconds, error: null });
  } catch (err) {
    images.push({ input: im.input, bytes: 0, seconds: 0, error: String(err.message || err) });
  }
}
process.stdout.write(JSON.stringify({ version, images }));
