package io.walship.internal.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/**
 * Regression: every process killed with kill -9 left its extracted copy of the WAL hook in the
 * temporary directory for good (1,275 directories on a test machine in half a day). A process
 * that extracts the hook now deletes the copies whose process ended, and only those.
 */
class AbandonedHookCopiesTest {
    @TempDir
    Path tmp;

    /** A child JVM: loads the hook with its temporary directory at args[0], prints that copy's directory, waits. */
    public static void main(String[] args) throws Exception {
        SQLiteConfig config = new SQLiteConfig();
        config.enableLoadExtension(true);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        try (Connection conn = config.createConnection("jdbc:sqlite:" + Path.of(args[0], "child.db"))) {
            WalHook.attach(conn, frames -> { });
            try (var dirs = Files.list(Path.of(args[0]))) {
                dirs.filter(d -> d.getFileName().toString().startsWith(WalHook.EXTRACTED_PREFIX))
                        .forEach(System.out::println);
            }
            System.out.println("READY");
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
        }
    }

    @Test
    void copyOfAKilledProcess_isRemovedByTheNextProcessLoadingTheHook_whileALiveProcessKeepsItsCopy()
            throws Exception {
        Process live = start();
        Path liveCopy = copyOf(live);
        Process killed = start();
        Path killedCopy = copyOf(killed, liveCopy);
        killed.destroyForcibly().waitFor();
        Process next = null;
        try {
            assertThat(killedCopy).as("kill -9 gives the process no chance to delete its copy").isDirectory();
            age(liveCopy);
            age(killedCopy);

            next = start();
            Path nextCopy = copyOf(next, liveCopy, killedCopy);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Files.exists(killedCopy) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }

            assertThat(killedCopy).as("removed by the process that loaded the hook next").doesNotExist();
            assertThat(liveCopy.resolve(WalHook.libraryName(WalHook.platform(System.getProperty("os.name"),
                    System.getProperty("os.arch"))))).isRegularFile();
            assertThat(nextCopy).isDirectory();
        } finally {
            live.destroyForcibly().waitFor();
            if (next != null) {
                next.destroyForcibly().waitFor();
            }
        }
        age(liveCopy);
        assertThat(WalHook.removeAbandoned(tmp, null, WalHook.ABANDONED_AFTER)).isEqualTo(1);
        assertThat(liveCopy).doesNotExist();
    }

    @Test
    void copiesBeingCreated_orWithoutALockFile_orLinked_areLeftAlone() throws Exception {
        Path fresh = copy("walship-native-fresh", true);
        Path legacy = age(copy("walship-native-legacy", false));
        Path target = age(copy("elsewhere", true));
        Path link = Files.createSymbolicLink(tmp.resolve("walship-native-link"), target);
        Path other = age(copy("someone-else", true));

        assertThat(WalHook.removeAbandoned(tmp, null, WalHook.ABANDONED_AFTER)).isZero();

        assertThat(fresh.resolve("libwalship.so")).isRegularFile();
        assertThat(legacy.resolve("libwalship.so")).isRegularFile();
        assertThat(target.resolve("libwalship.so")).isRegularFile();
        assertThat(link).isSymbolicLink();
        assertThat(other.resolve("libwalship.so")).isRegularFile();
    }

    @Test
    void ownCopy_isNeverRemoved() throws Exception {
        Path own = age(copy("walship-native-own", true));

        assertThat(WalHook.removeAbandoned(tmp, own, WalHook.ABANDONED_AFTER)).isZero();

        assertThat(own.resolve("libwalship.so")).isRegularFile();
    }

    private Process start() {
        return ChildJvm.start(ProcessBuilder.Redirect.PIPE, List.of("-Djava.io.tmpdir=" + tmp), Map.of(),
                AbandonedHookCopiesTest.class.getName(), tmp.toString());
    }

    /** The copy {@code child} extracted: the one directory it lists that is not among {@code known}. */
    private static Path copyOf(Process child, Path... known) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        List<Path> listed = new ArrayList<>();
        for (String line = out.readLine(); line != null && !line.equals("READY"); line = out.readLine()) {
            listed.add(Path.of(line));
        }
        listed.removeAll(List.of(known));
        assertThat(listed).as("the child extracted one copy of the hook").hasSize(1);
        return listed.get(0);
    }

    private Path copy(String name, boolean lockFile) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve(name));
        Files.write(dir.resolve("libwalship.so"), new byte[] {1, 2, 3});
        if (lockFile) {
            Files.createFile(dir.resolve(WalHook.IN_USE));
        }
        return dir;
    }

    private static Path age(Path dir) throws Exception {
        Files.setLastModifiedTime(dir, FileTime.from(Instant.now().minus(Duration.ofMinutes(2))));
        return dir;
    }
}
