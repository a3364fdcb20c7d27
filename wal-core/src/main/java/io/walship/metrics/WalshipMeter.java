package io.walship.metrics;

/**
 * Every meter walship registers, in one place: name, type, unit, tags and meaning. Each is
 * tagged {@code db} (the database file name); docs/METRICS.md lists the same table with what to
 * alert on, and a test keeps the two equal.
 */
public enum WalshipMeter {
    // ---------------------------------------------------------------- primary
    PRIMARY_TXID("walship.primary.txid", Type.GAUGE, "txid", "", "last committed transaction (stored or not)"),
    PRIMARY_STORED_TXID("walship.primary.stored.txid", Type.GAUGE, "txid", "",
            "every transaction up to this one is stored"),
    PRIMARY_PENDING_TRANSACTIONS("walship.primary.pending.transactions", Type.GAUGE, "transactions", "",
            "committed transactions not stored yet"),
    PRIMARY_PENDING_BYTES("walship.primary.pending.bytes", Type.GAUGE, "bytes", "",
            "captured log (uncompressed) waiting for storage; writers block at maxPendingBytes"),
    PRIMARY_UNSTORED_AGE("walship.primary.unstored.age", Type.GAUGE, "seconds", "",
            "how long the oldest acknowledgement has been waiting for storage; 0 when none waits"),
    PRIMARY_STORAGE_FAILING("walship.primary.storage.failing", Type.GAUGE, "", "",
            "1 while storage refuses writes and they are being retried, else 0"),
    PRIMARY_FAILED("walship.primary.failed", Type.GAUGE, "", "",
            "1 once the primary stopped (fenced, capture or flusher failure): writes are refused"),
    PRIMARY_SNAPSHOT_TXID("walship.primary.snapshot.txid", Type.GAUGE, "txid", "",
            "txid of the newest snapshot this primary knows in storage (-1: none)"),
    PRIMARY_ACK_LATENCY("walship.primary.ack.latency", Type.TIMER, "seconds", "",
            "from write() returning to its Ack completing (the transaction stored)"),
    PRIMARY_CAPTURE("walship.primary.capture", Type.TIMER, "seconds", "",
            "capture of one transaction: WAL read, checks, checksum, compression into the segment"),
    PRIMARY_CHECKPOINTS("walship.primary.checkpoints", Type.TIMER, "seconds", "result",
            "WAL checkpoints run by walship; result=folded (WAL emptied) or busy (a reader kept it)"),
    PRIMARY_UPLOADS("walship.primary.uploads", Type.TIMER, "seconds", "object",
            "objects stored, object=segment or snapshot, from first attempt to success"),
    PRIMARY_UPLOAD_BYTES("walship.primary.upload.bytes", Type.SUMMARY, "bytes", "object",
            "size of each stored object"),
    PRIMARY_UPLOAD_FAILURES("walship.primary.upload.failures", Type.COUNTER, "", "object, kind",
            "failed storage write attempts (each is retried), by StorageException.Kind"),
    PRIMARY_ERRORS("walship.primary.errors", Type.COUNTER, "", "task, kind",
            "background work that failed without stopping the primary (task=snapshot or checkpoint)"),

    // ---------------------------------------------------------------- storage
    STORAGE_REQUESTS("walship.storage.requests", Type.TIMER, "seconds", "operation, outcome",
            "storage calls by operation (put, get, get_range, open, list, delete) and outcome (ok, exists, missing, or"
                    + " the StorageException.Kind in lower case, or error)"),

    // ---------------------------------------------------------------- compaction and retention
    COMPACTION_RUNS("walship.compaction.runs", Type.TIMER, "seconds", "outcome",
            "compaction runs (list, compact, delete) by outcome: ok, problem (it found holes or damage) or error"),
    COMPACTION_OBJECTS("walship.compaction.objects", Type.COUNTER, "", "action",
            "objects created (compacted), replaced (deleted: a compacted object holds them) or expired"
                    + " (deleted by retention)"),
    COMPACTION_BYTES("walship.compaction.bytes", Type.COUNTER, "bytes", "action",
            "bytes written into compacted objects or deleted"),
    STORAGE_OBJECTS("walship.storage.objects", Type.GAUGE, "", "",
            "objects storage holds, as the last compaction run counted them"),
    STORAGE_BYTES("walship.storage.bytes", Type.GAUGE, "bytes", "",
            "bytes storage holds, as the last compaction run counted them"),
    STORAGE_EARLIEST_TXID("walship.storage.earliest.txid", Type.GAUGE, "txid", "",
            "earliest txid storage can restore (the oldest snapshot kept by retention)"),
    STORAGE_HOLES("walship.storage.holes", Type.GAUGE, "", "",
            "txid ranges between the earliest and latest txid that no snapshot and log restore, as the last"
                    + " compaction run proved them from the objects; retention deletes nothing while one exists"),
    STORAGE_PROBLEMS("walship.storage.problems", Type.GAUGE, "", "",
            "what the last compaction run found wrong and left alone: holes, damaged objects, compacted objects"
                    + " that do not hold what they replace"),

    // ---------------------------------------------------------------- replica
    REPLICA_TXID("walship.replica.txid", Type.GAUGE, "txid", "", "last transaction visible on the replica"),
    REPLICA_LAG("walship.replica.lag", Type.TIMER, "seconds", "",
            "from a transaction's commit on the primary to visible on the replica (both clocks)"),
    REPLICA_APPLY("walship.replica.apply", Type.TIMER, "seconds", "",
            "applying one batch of segments: fetch, check, write under the lock, fsync"),
    REPLICA_APPLIED_TRANSACTIONS("walship.replica.applied.transactions", Type.COUNTER, "transactions", "",
            "transactions applied"),
    REPLICA_TABLES("walship.replica.tables", Type.TIMER, "seconds", "",
            "naming the tables one batch changed, for applied listeners (only while one is registered)"),
    REPLICA_ERRORS("walship.replica.errors", Type.COUNTER, "", "kind",
            "failed attempts to apply (retried), by kind: corrupt, gap, format, torn, io, or the storage kind"),
    REPLICA_POLL_AGE("walship.replica.poll.age", Type.GAUGE, "seconds", "",
            "time since the replica last read storage successfully"),
    REPLICA_FAILED("walship.replica.failed", Type.GAUGE, "", "",
            "1 once the replica stopped (a batch could not be written): reads refused until reopened"),
    REPLICA_UNSTORED("walship.replica.unstored", Type.GAUGE, "transactions", "",
            "transactions visible on the replica that storage has not confirmed yet (applyUnstored)"),
    REPLICA_TAKEN_BACK("walship.replica.taken.back", Type.COUNTER, "transactions", "",
            "transactions applied before they were stored that the primary lost, taken back (applyUnstored)");

    /** How a meter is kept. */
    public enum Type {
        GAUGE, COUNTER, TIMER, SUMMARY
    }

    private final String meterName;
    private final Type type;
    private final String unit;
    private final String tags;
    private final String description;

    WalshipMeter(String meterName, Type type, String unit, String tags, String description) {
        this.meterName = meterName;
        this.type = type;
        this.unit = unit;
        this.tags = tags;
        this.description = description;
    }

    /** The Micrometer name (dots; Prometheus shows it with underscores and a unit suffix). */
    public String meterName() {
        return meterName;
    }

    /** What kind of Micrometer meter it is. */
    public Type type() {
        return type;
    }

    /** Base unit, empty for plain numbers. */
    public String unit() {
        return unit;
    }

    /** Tags besides {@code db}, comma separated; empty for none. */
    public String tags() {
        return tags;
    }

    /** One line saying what it measures, as registered. */
    public String description() {
        return description;
    }
}
