package io.walship;

import io.walship.internal.work.Workers;
import io.walship.storage.Storage;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What every stage of one primary shares (the WAL, the capture loop, the segment flusher, the
 * snapshot taker): the database, its options, the gate writers and folds take, the acks, the
 * storage writer, the meters, the threads and the lifecycle. {@link Primary} builds it once and
 * hands it to each stage, which it then wires as peers; a stage takes from it what it uses and
 * nothing reaches back up into the primary.
 *
 * @param db              the database's file name, as logs and meters name it
 * @param storage         the primary's storage, metered
 * @param databaseChannel the database file, open for reads for the primary's life
 * @param walChannel      the WAL file, open for the primary's life
 * @param gate            held by a commit (through the WAL hook), a fold, a snapshot's start
 * @param maintenance     the serial maintenance lane: folds after a store, scheduled snapshots;
 *                        whatever escapes a task stops the primary through the lifecycle
 * @param workers         the runtime's pools, from which each stage takes its lane
 */
record StageContext(String db, Path path, PrimaryOptions options, Storage storage, int pageSize,
                    FileChannel databaseChannel, FileChannel walChannel, ReentrantLock gate, AckRegistry acks,
                    StorageWriter storageWriter, PrimaryMeters meters, Workers workers, Executor maintenance,
                    Lifecycle lifecycle) {
    /** How long the writer connection waits for another connection's lock (SQLite busy timeout). */
    static final int BUSY_TIMEOUT_MILLIS = 5000;
}
