// The original app's WebP/AVIF encoders, timed on decoded pixels, one encode per request so the
// bench can alternate them with its own encodes file by file (bench/webp_avif.py). Reads one
// JSON request a line on stdin, {input, format, quality}; decodes each input once (not timed),
// encodes it with the original sidecar's options for that format at that quality (as
// bench/sharp/rd_sweep.mjs: WebP alphaQuality 90, effort 4; AVIF effort 2, 4:2:0, tune "iq") on
// one libvips thread and answers one line, {seconds, cpu_seconds, bytes}: wall time and the CPU
// time of the whole Node process (every thread) over that encode. Started by bench/webp_avif.py
// with {sharp_dir} as its argument, never by hand.
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";

const { sharp_dir: sharpDir } = JSON.parse(process.argv[2]);
const require = createRequire(join(sharpDir, "package.json"));
const sharp = require("sharp");

const DEFAULTS = {
  webp: { alphaQuality: 90, effort: 4, lossless: false, smartSubsample: false },
  avif: { effort: 2, chromaSubsampling: "4:2:0", lossless: false, tune: "iq" },
};

sharp.concurrency(1);
sharp.cache(false);

const decoded = new Map();
for await (const line of createInterface({ input: process.stdin })) {
  const item = JSON.parse(line);
  if (!decoded.has(item.input)) {
    decoded.clear();
    const { data, info } = await sharp(item.input).raw().toBuffer({ resolveWithObject: true });
    decoded.set(item.input, { data, raw: { width: info.width, height: info.height,
                                            channels: info.channels } });
  }
  const { data, raw } = decoded.get(item.input);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const encoded = await sharp(data, { raw })
    .toFormat(item.format, { ...DEFAULTS[item.format], quality: item.quality }).toBuffer();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6,
                                        bytes: encoded.length }) + "\n");
}
