// The original app's WebP/AVIF encoders, timed on decoded pixels: for each item, decode the
// input once (not timed), then encode it `repeat` times with the original sidecar's options for
// that format at the item's quality (as bench/sharp/rd_sweep.mjs: WebP alphaQuality 90, effort
// 4; AVIF effort 2, 4:2:0, tune "iq"), one at a time on one libvips thread. Prints, per item,
// the fastest of the encodes in seconds and the bytes. Reads {sharp_dir, repeat, items: [{input,
// format, quality}]} on stdin. Run by bench/webp_avif.py, never by hand.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const job = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(join(job.sharp_dir, "package.json"));
const sharp = require("sharp");

const DEFAULTS = {
  webp: { alphaQuality: 90, effort: 4, lossless: false, smartSubsample: false },
  avif: { effort: 2, chromaSubsampling: "4:2:0", lossless: false, tune: "iq" },
};

sharp.concurrency(1);
sharp.cache(false);

const out = [];
for (const item of job.items) {
  const { data, info } = await sharp(item.input).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < job.repeat; i++) {
    const t0 = process.hrtime.bigint();
    const encoded = await sharp(data, raw)
      .toFormat(item.format, { ...DEFAULTS[item.format], quality: item.quality }).toBuffer();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    bytes = encoded.length;
  }
  out.push({ input: item.input, format: item.format, quality: item.quality, seconds: best, bytes });
}
process.stdout.write(JSON.stringify(out));
