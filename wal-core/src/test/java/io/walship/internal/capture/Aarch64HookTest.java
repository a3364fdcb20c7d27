package io.walship.internal.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The linux-aarch64 WAL hook the jar carries, loaded into Debian's arm64 SQLite under qemu-user
 * and used there: functions registered, callback called per commit with token and frames,
 * authorizer and extension switch in force (src/test/c/hook_check.c says what it checks). Needs
 * qemu-user, gcc-aarch64-linux-gnu with its C headers (libc6-dev-arm64-cross) and libsqlite3-0:arm64 (CI
 * installs them); skipped without.
 */
class Aarch64HookTest {
    private static final Path ARM64_SQLITE = Path.of("/usr/lib/aarch64-linux-gnu/libsqlite3.so.0");
    /** The cross compiler's C library headers (libc6-dev-arm64-cross, only recommended by the compiler). */
    private static final Path ARM64_HEADERS = Path.of("/usr/aarch64-linux-gnu/include/stdio.h");

    @TempDir
    Path dir;

    @Test
    void aarch64Hook_loadsIntoAnArm64SqliteAndReportsEachCommit() throws Exception {
        Assumptions.assumeTrue(onPath("qemu-aarch64") && onPath("aarch64-linux-gnu-gcc")
                && Files.exists(ARM64_HEADERS) && Files.exists(ARM64_SQLITE),
                "needs qemu-user, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and libsqlite3-0:arm64");
        Path hook = dir.resolve("libwalship.so");
        try (InputStream in = WalHook.class.getResourceAsStream("native/linux-aarch64/libwalship.so")) {
            assertThat(in).isNotNull();
            Files.copy(in, hook);
        }
        Path check = dir.resolve("hook_check");
        assertThat(run(List.of("aarch64-linux-gnu-gcc", "-O1", "-Wall", "-Wextra", "-Werror", "-o",
                check.toString(), Path.of("src/test/c/hook_check.c").toAbsolutePath().toString(), "-ldl")))
                .as("cross compiling the checker").isEmpty();

        String out = run(List.of("qemu-aarch64", check.toString(), hook.toString(), ARM64_SQLITE.toString(),
                dir.resolve("check.db").toString()));

        assertThat(out).startsWith("ok commits=2 token=42 frames=");
    }

    /** What the command printed; fails the test if it exits non-zero. */
    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("finished: " + command).isTrue();
        assertThat(process.exitValue()).as(command + " printed: " + out).isZero();
        return out;
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    }
}
