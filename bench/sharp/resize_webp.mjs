// The original app's engine on one workload: resize the longest edge to a size (never enlarging)
// and convert to WebP, with the original sidecar's code path (optimizer.js: metadata() first,
// then resize(size, null | null, size, {withoutEnlargement, fit: "inside"}) on the longest edge,
// then toFormat("webp", defaults.js's WebP options at the quality)). Reads a ResizeJob
// (bench/resize_webp.py) as JSON on stdin, prints a ResizeRun as JSON on stdout.
// Timing as bench/sharp/run.mjs: N images in flight from one shared queue, largest first,
// `sharp.concurrency(1)`, the original's cache; the clock runs from the first submit to the
// last file written. Run by bench/resize_webp.py, never by hand.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const job = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(join(job.sharp_dir, "package.json"));
const sharp = require("sharp");

const WEBP = { alphaQuality: 90, effort: 4, lossless: false, smartSubsample: false };

sharp.concurrency(1);
sharp.cache({ memory: 50, files: 10, items: 100 }); // as the original's optimizer.js

const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

async function one(input, output) {
  const image = sharp(input);
  const meta = await image.metadata();
  const fit = { withoutEnlargement: true, fit: "inside" };
  const resized = meta.width >= meta.height
    ? image.resize(job.size, null, fit) : image.resize(null, job.size, fit);
  await resized.toFormat("webp", { ...WEBP, quality: job.quality }).toFile(output);
}

async function run() {
  for (const im of job.images) {
    readFileSync(im.input); // page cache, as our side does
    mkdirSync(dirname(im.output), { recursive: true });
  }
  const errors = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  async function lane() {
    while (next < job.images.length) {
      const im = job.images[next++];
      try {
        await one(im.input, im.output);
      } catch (err) {
        errors.push(`${im.input}: ${err.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: job.workers }, lane));
  const wall_s = seconds(t0);
  const cpu = process.cpuUsage(cpu0);
  return { wall_s, cpu_s: (cpu.user + cpu.system) / 1e6, errors };
}

// Warm-up: every codec and the resize path loaded once before the clock starts.
const probe = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#c86432" } })
  .jpeg().toBuffer();
await sharp(probe).resize(32, null).webp({ ...WEBP, quality: job.quality }).toBuffer();
process.stdout.write(JSON.stringify(await run()));
