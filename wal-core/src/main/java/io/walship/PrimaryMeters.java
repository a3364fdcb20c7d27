package io.walship;

import io.walship.internal.log.ObjectKey;
import io.walship.internal.metrics.Metrics;
import io.walship.metrics.WalshipMeter;
import io.walship.storage.StorageException;

/** The primary's instruments, looked up once; {@link Metrics#NONE} makes each a no-op. */
final class PrimaryMeters {
    private final Metrics metrics;
    final Metrics.Timer capture;
    final Metrics.Timer ackLatency;
    final Metrics.Timer checkpointFolded;
    final Metrics.Timer checkpointBusy;
    private final Metrics.Timer segmentUploads;
    private final Metrics.Timer snapshotUploads;
    private final Metrics.Summary segmentBytes;
    private final Metrics.Summary snapshotBytes;

    PrimaryMeters(Metrics metrics) {
        this.metrics = metrics;
        this.capture = metrics.timer(WalshipMeter.PRIMARY_CAPTURE);
        this.ackLatency = metrics.timer(WalshipMeter.PRIMARY_ACK_LATENCY);
        this.checkpointFolded = metrics.timer(WalshipMeter.PRIMARY_CHECKPOINTS, "result", "folded");
        this.checkpointBusy = metrics.timer(WalshipMeter.PRIMARY_CHECKPOINTS, "result", "busy");
        this.segmentUploads = metrics.timer(WalshipMeter.PRIMARY_UPLOADS, "object", "segment");
        this.snapshotUploads = metrics.timer(WalshipMeter.PRIMARY_UPLOADS, "object", "snapshot");
        this.segmentBytes = metrics.summary(WalshipMeter.PRIMARY_UPLOAD_BYTES, "object", "segment");
        this.snapshotBytes = metrics.summary(WalshipMeter.PRIMARY_UPLOAD_BYTES, "object", "snapshot");
    }

    Metrics metrics() {
        return metrics;
    }

    /** An object was stored under {@code key}; {@code startedNanos} is its first attempt. */
    void uploaded(String key, long bytes, long startedNanos) {
        boolean snapshot = key.startsWith(ObjectKey.SNAPSHOT_PREFIX);
        (snapshot ? snapshotUploads : segmentUploads).recordSince(startedNanos);
        (snapshot ? snapshotBytes : segmentBytes).record(bytes);
    }

    /** One attempt to store {@code key} failed (it is retried). */
    void uploadFailed(String key, StorageException e) {
        metrics.counter(WalshipMeter.PRIMARY_UPLOAD_FAILURES, "object", objectType(key), "kind", Problem.kindOf(e)).increment();
    }

    /** Background work ({@code task}) failed without stopping the primary. */
    void error(String task, Throwable e) {
        metrics.counter(WalshipMeter.PRIMARY_ERRORS, "task", task, "kind", Problem.kindOf(e)).increment();
    }

    private static String objectType(String key) {
        return key.startsWith(ObjectKey.SNAPSHOT_PREFIX) ? "snapshot" : "segment";
    }
}
