/**
 * The numbers of one batch: counts, percentage, bytes saved and elapsed time.
 *
 * While the batch runs they come from `image_optimization_progress` events: saved bytes summed
 * over events (each event's sizes cover the images it reports, coalesced or not), percentage never
 * going backwards. When the batch returns, its result list gives the exact final numbers. Elapsed
 * time ticks locally until the final event's `totalDuration` (the backend's wall clock) is known.
 */

const TICK_MS = 100;

function emptySnapshot(total) {
  return {
    phase: "working", // working | complete | cancelled | failed
    completed: 0,
    total,
    percent: 0,
    optimized: 0,
    failed: 0,
    cancelled: 0,
    savedBytes: 0,
    originalBytes: 0,
    seconds: 0,
  };
}

export function isCancelled(result) {
  return result.status === "cancelled" || result.errorKind === "cancelled";
}

export class ProgressTracker {
  /** @param {(snapshot: object) => void} onChange called on every change, with a fresh copy */
  constructor(onChange) {
    this.onChange = onChange;
    this.snapshot = emptySnapshot(0);
    this.startedAt = 0;
    this.finalDuration = null;
    this.timer = null;
  }

  start(total) {
    this.stopTimer();
    this.snapshot = emptySnapshot(total);
    this.startedAt = performance.now();
    this.finalDuration = null;
    this.timer = setInterval(() => {
      this.snapshot.seconds = this.elapsed();
      this.emit();
    }, TICK_MS);
    this.emit();
  }

  /** One progress event's payload (the SPEC's shape). */
  onEvent(payload) {
    const s = this.snapshot;
    const { completedTasks, totalTasks, progressPercentage, metadata } = payload;
    if (Number.isFinite(totalTasks) && totalTasks > 0) s.total = totalTasks;
    if (Number.isFinite(completedTasks)) s.completed = Math.max(s.completed, completedTasks);
    const percent = Number.isFinite(progressPercentage)
      ? progressPercentage
      : (s.completed / Math.max(1, s.total)) * 100;
    s.percent = Math.min(100, Math.max(s.percent, Math.round(percent)));
    // Sizes are sums over the event's successful images (also when some in it failed).
    if (metadata && Number.isFinite(metadata.originalSize)) {
      s.savedBytes += Number(metadata.savedBytes) || 0;
      s.originalBytes += Number(metadata.originalSize) || 0;
    }
    if (metadata && Number.isFinite(metadata.totalDuration)) {
      this.finalDuration = metadata.totalDuration;
    }
    s.seconds = this.elapsed();
    this.emit();
  }

  /** The batch returned: exact totals from its OptimizationResults. */
  finish(results) {
    this.stopTimer();
    const ok = results.filter((r) => r.success);
    const cancelled = results.filter(isCancelled).length;
    const failed = results.length - ok.length - cancelled;
    const s = this.snapshot;
    s.total = results.length;
    s.completed = ok.length + failed;
    s.optimized = ok.length;
    s.failed = failed;
    s.cancelled = cancelled;
    s.savedBytes = ok.reduce((sum, r) => sum + (r.savedBytes || 0), 0);
    s.originalBytes = ok.reduce((sum, r) => sum + (r.original_size || 0), 0);
    s.seconds = this.elapsed();
    if (cancelled > 0) {
      s.phase = "cancelled";
      s.percent = Math.round((s.completed / Math.max(1, s.total)) * 100);
    } else {
      s.phase = ok.length === 0 && failed > 0 ? "failed" : "complete";
      s.percent = 100;
    }
    this.emit();
    return { ...s };
  }

  stop() {
    this.stopTimer();
  }

  elapsed() {
    if (this.finalDuration !== null) return this.finalDuration;
    return (performance.now() - this.startedAt) / 1000;
  }

  stopTimer() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  emit() {
    this.onChange({ ...this.snapshot });
  }
}
