// The original app's engine for the quality bench: encode each item with sharp at a given
// quality, with the original sidecar's settings for that format (defaults.js; quality overridden
// as its getFormatSettings did, every other option as the original set it). Reads an RdJob
// (bench/rd.py) as JSON on stdin, writes the outputs, prints an RdRun as JSON on stdout.
// Run by bench/rd.py, never by hand. Speed is not measured here (see bench/sharp/run.mjs).
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const job = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(join(job.sharp_dir, "package.json"));
const sharp = require("sharp");

// sharp-sidecar/src/config/formats/defaults.js of the original app: `quality` is the one field
// its getFormatSettings replaced; WebP keeps alphaQuality 90 and AVIF 4:2:0 at every quality.
// AVIF adds tune "iq" (aom's SSIMULACRA2-tuned mode, sharp >= 0.35): sharp 0.35's `auto` already
// picks it for lossy AVIF; set explicitly so the peer stays the current engine at its best.
const DEFAULTS = {
  jpeg: { mozjpeg: true, chromaSubsampling: "4:2:0", optimiseCoding: true },
  png: { compressionLevel: 7, adaptiveFiltering: true, palette: true, effort: 4 },
  webp: { alphaQuality: 90, effort: 4, lossless: false, smartSubsample: false },
  avif: { effort: 2, chromaSubsampling: "4:2:0", lossless: false, tune: "iq" },
};

sharp.concurrency(1);
sharp.cache(false);

const errors = [];
let next = 0;
async function lane() {
  while (next < job.items.length) {
    const item = job.items[next++];
    try {
      mkdirSync(dirname(item.output), { recursive: true });
      const options = { ...DEFAULTS[item.format], quality: item.quality };
      await sharp(item.input).toFormat(item.format, options).toFile(item.output);
    } catch (err) {
      errors.push(`${item.input} -> ${item.format} q${item.quality}: ${err.message}`);
    }
  }
}
await Promise.all(Array.from({ length: job.lanes }, lane));
const versions = {};
for (const [name, version] of Object.entries(sharp.versions)) {
  if (["sharp", "vips", "mozjpeg", "imagequant", "webp", "heif", "aom"].includes(name)) {
    versions[name] = String(version);
  }
}
process.stdout.write(JSON.stringify({ versions, errors }));
