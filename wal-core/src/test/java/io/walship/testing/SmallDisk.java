package io.walship.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, tiny file system (tmpfs) mounted on a directory, to fill up and then grow: the disk
 * full case without faking ENOSPC. Needs root or CAP_SYS_ADMIN; where mounting is not allowed
 * the calling test is skipped, not failed.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path dir;

    private SmallDisk(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code bytes} on {@code dir} (created if needed), or skips the test. */
    public static SmallDisk mount(Path dir, long bytes) throws IOException {
        Files.createDirectories(dir);
        String out = run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString());
        Assumptions.assumeTrue(out == null, () -> "cannot mount a tmpfs here (needs root): " + out);
        return new SmallDisk(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Grows (or shrinks) the file system in place, keeping its files: the operator frees space. */
    public void resize(long bytes) {
        String out = run("mount", "-o", "remount,size=" + bytes, dir.toString());
        if (out != null) {
            throw new IllegalStateException("cannot resize tmpfs " + dir + ": " + out);
        }
    }

    @Override
    public void close() {
        String out = run("umount", "-l", dir.toString());
        if (out != null) {
            throw new IllegalStateException("cannot unmount tmpfs " + dir + ": " + out);
        }
    }

    /** Null when the command succeeded, else what it printed (or why it could not run). */
    private static String run(String... command) {
        try {
            Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "timed out";
            }
            return process.exitValue() == 0 ? null : "exit " + process.exitValue() + ": " + out;
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }
}
