// The original app's engine as a bench peer: Node + sharp (libvips, mozjpeg, libimagequant) with
// the original sidecar's default settings. Reads a SpeedJob (bench/schema.py) as JSON on stdin,
// writes a SpeedRun as JSON on stdout. Run by bench/peer_sharp.py, never by hand.
//
// Fairness: `sharp.concurrency(1)` gives each image one libvips thread (as the original's
// workers did), and `workers` images are in flight at once from one shared queue, largest first:
// N images at a time for N workers, like our N worker processes. UV_THREADPOOL_SIZE is the
// original sidecar's (set by the caller, see peer_sharp.py). The clock runs from the first submit
// to the last file written; cpu_s is this process's CPU time (all threads) over the same span.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const job = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(join(job.sharp_dir, "package.json"));
const sharp = require("sharp");

// The original's sidecar settings (sharp-sidecar/src/config/formats/defaults.js at quality 90).
const OPTIONS = {
  jpeg: { quality: 90, mozjpeg: true, chromaSubsampling: "4:2:0", optimiseCoding: true },
  png: { compressionLevel: 7, adaptiveFiltering: true, palette: true, effort: 4, quality: 90 },
};

sharp.concurrency(1);
sharp.cache({ memory: 50, files: 10, items: 100 }); // as the original's optimizer.js

const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

async function warmUp() {
  const base = sharp({ create: { width: 64, height: 64, channels: 3, background: "#c86432" } });
  for (const fmt of Object.keys(OPTIONS)) {
    const encoded = await base.clone().toFormat(fmt).toBuffer();
    await sharp(encoded).toFormat(fmt, OPTIONS[fmt]).toBuffer();
  }
}

async function runGroup(group) {
  for (const im of group.images) {
    readFileSync(im.input); // page cache, as the Python contenders do
    mkdirSync(dirname(im.output), { recursive: true });
  }
  const errors = [];
  let next = 0;
  let failed = 0;
  let first = null;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  async function lane() {
    while (next < group.images.length) {
      const im = group.images[next++];
      try {
        await sharp(im.input).toFormat(im.format, OPTIONS[im.format]).toFile(im.output);
      } catch (err) {
        failed += 1;
        if (errors.length < 5) errors.push(`${im.input}: ${err.message}`);
      }
      if (first === null) first = seconds(t0);
    }
  }
  await Promise.all(Array.from({ length: job.workers }, lane));
  const wall = seconds(t0);
  const cpu = process.cpuUsage(cpu0);
  const cpu_s = (cpu.user + cpu.system) / 1e6;
  return { name: group.name, wall_s: wall, first_result_s: first, cpu_s, failed, errors };
}

await warmUp();
const groups = [];
for (const group of job.groups) groups.push(await runGroup(group));
const versions = { node: process.versions.node, uv_threadpool: process.env.UV_THREADPOOL_SIZE ?? "4" };
for (const [name, version] of Object.entries(sharp.versions)) {
  if (["sharp", "vips", "mozjpeg", "imagequant", "spng", "png", "zlib-ng"].includes(name)) {
    versions[name] = String(version);
  }
}
process.stdout.write(JSON.stringify({ engine: "sharp", workers: job.workers, groups, versions }));
