package io.walship.cli;

import io.walship.restore.Restore;
import java.io.PrintWriter;

/** A one-line progress bar on the error stream, redrawn at most once per percent. */
final class ProgressBar implements Restore.Progress {
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final boolean enabled;
    private String phase = "";
    private long lastPercent = -1;

    ProgressBar(PrintWriter err, boolean enabled) {
        this.err = err;
        this.enabled = enabled;
    }

    @Override
    public void advanced(String phase, long done, long total) {
        if (!enabled || total <= 0) {
            return;
        }
        long percent = done * 100 / total;
        if (percent == lastPercent && phase.equals(this.phase)) {
            return;
        }
        if (!phase.equals(this.phase) && !this.phase.isEmpty()) {
            err.println();
        }
        this.phase = phase;
        lastPercent = percent;
        int filled = (int) (percent * WIDTH / 100);
        err.print("\r" + String.format("%-8s", phase) + " [" + "=".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
                + String.format("%3d%%", percent) + " " + done + "/" + total
                + (phase.equals("snapshot") ? " pages" : " segments"));
        err.flush();
    }

    void done() {
        if (enabled && !phase.isEmpty()) {
            err.println();
            err.flush();
        }
    }
}
