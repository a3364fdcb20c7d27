package io.walship.bench;

/**
 * The push lag measurements run alone ({@code [--quick] [--out DIR]}, default bench): commit to
 * visible on a replica following a primary's stream, stored and applied on arrival, and applied
 * on arrival on a 1 GiB database; merges the {@code push_lag_*} keys into DIR's results.json.
 */
public final class PushLag {
    private PushLag() {
    }

    public static void main(String[] args) throws Exception {
        BenchRunner.runAlone(args, PushLag.class, (into, quick) -> into.pushLag());
    }
}
