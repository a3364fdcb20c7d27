package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The background forces of a restore: they run while the writer writes, and none of their failures is lost. */
class WritebackTest {

    @Test
    void forcesInTheBackgroundOnceEnoughIsWritten() throws Exception {
        AtomicInteger forces = new AtomicInteger();
        CountDownLatch forced = new CountDownLatch(1);
        Writeback writeback = new Writeback(() -> {
            forces.incrementAndGet();
            forced.countDown();
        }, 1000);

        writeback.written(999);
        writeback.awaitForce();
        assertThat(forces).hasValue(0);

        writeback.written(1);
        assertThat(forced.await(10, TimeUnit.SECONDS)).as("a force started before the writer finished").isTrue();
        writeback.finish();
        assertThat(forces).hasValue(1);
    }

    @Test
    void oneForceAtATime_theNextStartsWhenTheWriterWritesAfterItEnded() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger forces = new AtomicInteger();
        Writeback writeback = new Writeback(() -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            forces.incrementAndGet();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            running.decrementAndGet();
        }, 10);

        for (int i = 0; i < 50; i++) {
            writeback.written(10); // the first starts a force; the rest find it running
        }
        release.countDown();
        writeback.awaitForce();
        writeback.written(10);
        writeback.finish();

        assertThat(most).hasValue(1);
        assertThat(forces).hasValue(2);
    }

    /**
     * Regression: after a failed fsync Linux may report the next one as a success for pages that
     * never reached the disk, so a failure of a background force must fail the restore itself.
     */
    @Test
    void aFailedBackgroundForceFailsFinish_evenWhenNothingFailsAfterIt() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Writeback writeback = new Writeback(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new IOException("EIO from the disk");
            }
        }, 10);

        writeback.written(10);
        writeback.awaitForce();

        assertThatThrownBy(writeback::finish).isInstanceOf(IOException.class)
                .hasMessageContaining("cannot be trusted").hasRootCauseMessage("EIO from the disk");
    }

    @Test
    void theWriterStopsAtItsNextWriteOnceABackgroundForceFailed() throws Exception {
        Writeback writeback = new Writeback(() -> {
            throw new IOException("EIO from the disk");
        }, 10);
        writeback.written(10);
        writeback.awaitForce();

        assertThatThrownBy(() -> writeback.written(1)).isInstanceOf(IOException.class)
                .hasRootCauseMessage("EIO from the disk");
    }

    /** An abandoned restore closes and deletes its file next: no force may still run on it. */
    @Test
    void awaitForceWaitsForTheForceInFlight_evenWhenInterrupted() throws Exception {
        CountDownLatch inForce = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean ended = new AtomicBoolean();
        Writeback writeback = new Writeback(() -> {
            inForce.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ended.set(true);
        }, 1);
        writeback.written(1);
        assertThat(inForce.await(10, TimeUnit.SECONDS)).isTrue();

        AtomicBoolean endedBeforeReturn = new AtomicBoolean();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread closer = new Thread(() -> {
            Thread.currentThread().interrupt();
            writeback.awaitForce();
            endedBeforeReturn.set(ended.get());
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        closer.start();
        closer.join(200);
        assertThat(closer.isAlive()).as("returned while the force still ran").isTrue();
        release.countDown();
        closer.join();

        assertThat(endedBeforeReturn).isTrue();
        assertThat(stillInterrupted).as("the caller's interrupt is kept").isTrue();
    }
}
