package io.walship.replica;

import io.walship.Health;
import io.walship.Problem;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A replica's state at one moment, for health checks ({@link Replica#status()}).
 *
 * @param database    the replica file name
 * @param health      RUNNING, RETRYING (the last attempt to apply failed; readers see the last good state),
 *                    FAILED (reads refused until reopened) or CLOSED
 * @param txid        the last transaction visible
 * @param committedAt when the primary committed {@code txid}; empty until a batch is applied since open
 * @param appliedAt   when the last batch became visible here; empty until one is
 * @param lag         {@code appliedAt - committedAt}: how stale the replica was when it caught up to {@code txid}
 *                    (the clocks of two machines: a skew between them shows here)
 * @param lastPollAt  when storage was last read successfully (a follower polls every pollInterval)
 * @param error       why it is RETRYING or FAILED; empty when the last attempt succeeded
 * @param streamError why the primary's live stream is not delivering, since when; empty while it is
 *                    connected or without a stream (the replica then reads storage: health is not affected)
 */
public record ReplicaStatus(String database, Health health, long txid, Optional<Instant> committedAt,
                            Optional<Instant> appliedAt, Optional<Duration> lag, Optional<Instant> lastPollAt,
                            Optional<Problem> error, Optional<Problem> streamError) {
}
