package io.walship.testing;

import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Wraps a real {@link Storage} whose LIST misleads the way real ones can, while reads and writes
 * stay exact: it omits keys that exist (a directory read racing a writer's link, an eventually
 * consistent store), shows new keys only some time after they were created ("late"), keeps showing
 * keys some time after they were deleted ("stale"), and returns keys out of order. Puts may be
 * delayed, widening every race. Thread-safe.
 */
public final class MisleadingListings extends ForwardingStorage {
    private final Random random;
    private final Set<String> hidden = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> createdNanos = new ConcurrentHashMap<>();
    private final Map<String, Stale> deleted = new ConcurrentHashMap<>();
    private volatile double omitShare;
    private volatile String omitUnder = "";
    private volatile long lateNanos;
    private volatile long staleNanos;
    private volatile boolean shuffle;
    private volatile long maxPutDelayMillis;

    private record Stale(ObjectInfo info, long deletedNanos) {
    }

    public MisleadingListings(Storage delegate, long seed) {
        super(delegate);
        this.random = new Random(seed);
    }

    /** Omits each existing key from a listing with this probability. */
    public MisleadingListings omit(double share) {
        return omit(share, "");
    }

    /** Omits each existing key under {@code prefix} from a listing with this probability. */
    public MisleadingListings omit(double share, String prefix) {
        this.omitShare = share;
        this.omitUnder = prefix;
        return this;
    }

    /** Lists a new key only this long after it was created. */
    public MisleadingListings late(long millis) {
        this.lateNanos = millis * 1_000_000;
        return this;
    }

    /** Keeps listing a deleted key this long after it was deleted. */
    public MisleadingListings stale(long millis) {
        this.staleNanos = millis * 1_000_000;
        return this;
    }

    /** Returns listings in random order. */
    public MisleadingListings shuffled() {
        this.shuffle = true;
        return this;
    }

    /** Delays each put by up to this long. */
    public MisleadingListings delayPutsUpTo(long millis) {
        this.maxPutDelayMillis = millis;
        return this;
    }

    /** Leaves {@code key} out of every listing until {@link #reveal}. */
    public MisleadingListings hide(String key) {
        hidden.add(key);
        return this;
    }

    public MisleadingListings reveal(String key) {
        hidden.remove(key);
        return this;
    }

    /** Lists honestly from now on (puts are no longer delayed either). */
    public MisleadingListings honest() {
        omitShare = 0;
        lateNanos = 0;
        staleNanos = 0;
        shuffle = false;
        maxPutDelayMillis = 0;
        hidden.clear();
        deleted.clear();
        return this;
    }

    private synchronized double nextDouble() {
        return random.nextDouble();
    }

    @Override
    protected PutResult put(String key, Supplier<PutResult> call) {
        long delay = maxPutDelayMillis;
        if (delay > 0) {
            try {
                Thread.sleep((long) (nextDouble() * delay));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        PutResult result = call.get();
        if (result == PutResult.CREATED) {
            createdNanos.put(key, System.nanoTime());
            deleted.remove(key);
        }
        return result;
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        long now = System.nanoTime();
        List<ObjectInfo> out = new ArrayList<>();
        for (ObjectInfo info : super.list(prefix)) {
            Long created = createdNanos.get(info.key());
            boolean tooNew = created != null && now - created < lateNanos;
            boolean omitted = info.key().startsWith(omitUnder) && nextDouble() < omitShare;
            if (!hidden.contains(info.key()) && !tooNew && !omitted) {
                out.add(info);
            }
        }
        for (Stale stale : deleted.values()) {
            if (stale.info().key().startsWith(prefix) && now - stale.deletedNanos() < staleNanos
                    && out.stream().noneMatch(o -> o.key().equals(stale.info().key()))) {
                out.add(stale.info());
            }
        }
        if (shuffle) {
            synchronized (this) {
                Collections.shuffle(out, random);
            }
        } else {
            out.sort((a, b) -> a.key().compareTo(b.key()));
        }
        return out;
    }

    @Override
    public void delete(String key) {
        remember(List.of(key));
        super.delete(key);
    }

    @Override
    public void deleteAll(Collection<String> keys) {
        remember(keys);
        super.deleteAll(keys);
    }

    private void remember(Collection<String> keys) {
        if (staleNanos == 0) {
            return;
        }
        long now = System.nanoTime();
        Set<String> doomed = Set.copyOf(keys);
        Set<String> prefixes = new java.util.HashSet<>();
        keys.forEach(key -> prefixes.add(key.substring(0, key.indexOf('/') + 1)));
        for (String prefix : prefixes) {
            for (ObjectInfo info : super.list(prefix)) {
                if (doomed.contains(info.key())) {
                    deleted.put(info.key(), new Stale(info, now));
                }
            }
        }
    }

    @Override
    public String toString() {
        return "misleading-listings:" + delegate();
    }
}
