package io.walship.replica;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands applied batches to listeners, each on a thread of its own, never on the thread that
 * applies. Thread-safe.
 */
final class AppliedListeners {
    /*
     * Publishing only stores the batch with the listener and wakes its thread, so a listener that
     * sleeps, blocks or throws costs the apply path nothing. A listener that falls behind is handed
     * the batches it missed as one (AppliedBatch.followedBy): every txid once, in order, and at most
     * one batch waiting per listener, however slow it is. A batch taken back (applyUnstored) is
     * never merged: it waits as a batch of its own, in order. An exception from a listener is logged
     * (the first and every hundredth) and the next batch is delivered as usual.
     */
    private static final Logger log = LoggerFactory.getLogger(AppliedListeners.class);

    private final String db;
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private int created;

    AppliedListeners(String db) {
        this.db = db;
    }

    synchronized void add(Consumer<AppliedBatch> listener) {
        Delivery delivery = new Delivery(listener, "walship-listener-" + db + "-" + ++created);
        deliveries.add(delivery);
        delivery.thread.start();
    }

    /** Stops delivering to {@code listener}; false when it was not registered. */
    synchronized boolean remove(Consumer<AppliedBatch> listener) {
        for (Delivery delivery : deliveries) {
            if (delivery.listener == listener) {
                deliveries.remove(delivery);
                delivery.stop();
                return true;
            }
        }
        return false;
    }

    boolean isEmpty() {
        return deliveries.isEmpty();
    }

    void publish(AppliedBatch batch) {
        for (Delivery delivery : deliveries) {
            delivery.offer(batch);
        }
    }

    /** Stops every delivery; batches not yet handed over are dropped. */
    synchronized void close() {
        for (Delivery delivery : deliveries) {
            delivery.stop();
        }
        deliveries.clear();
    }

    private final class Delivery implements Runnable {
        final Consumer<AppliedBatch> listener;
        final Thread thread;
        private final ArrayDeque<AppliedBatch> pending = new ArrayDeque<>();
        private boolean stopped;
        private long failures;

        Delivery(Consumer<AppliedBatch> listener, String name) {
            this.listener = listener;
            this.thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        synchronized void offer(AppliedBatch batch) {
            AppliedBatch last = pending.peekLast();
            if (last != null && last.mergesWith(batch)) {
                pending.removeLast();
                pending.addLast(last.followedBy(batch));
            } else {
                pending.addLast(batch);
            }
            notifyAll();
        }

        synchronized void stop() {
            stopped = true;
            notifyAll();
        }

        @Override
        public void run() {
            while (true) {
                AppliedBatch next;
                synchronized (this) {
                    try {
                        while (pending.isEmpty() && !stopped) {
                            wait();
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (stopped) {
                        return;
                    }
                    next = pending.removeFirst();
                }
                try {
                    listener.accept(next);
                } catch (RuntimeException e) {
                    if (failures++ % 100 == 0) {
                        log.warn("applied listener failed, it gets the next batch as usual db={} txid={}..{}"
                                + " failures={} error={}", db, next.firstTxid(), next.lastTxid(), failures,
                                e.toString(), e);
                    }
                }
            }
        }
    }
}
