package io.walship.internal.capture;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge to the C extension {@code wal-core/src/main/c/walship.c}: it tells Java about every
 * commit on a connection, with the number of valid frames in the WAL.
 *
 * <p>The extension is extracted from the jar once per process into a temporary directory,
 * loaded into a sqlite-jdbc connection with {@code load_extension} (so it runs inside the SQLite
 * copy sqlite-jdbc loaded, never a second one) and opened a second time through JNA to install
 * one native callback. The callback object is held in a static field so the garbage collector
 * never frees the native stub while SQLite may call it.
 *
 * <p>That directory is deleted when the JVM exits; a process killed with {@code kill -9} (which
 * walship is built to survive) cannot do so. Each directory therefore holds a lock file its
 * process keeps locked for its whole life, and every process that extracts the hook deletes the
 * directories whose lock is free: a service restarted after crashes leaves at most the copies of
 * processes still running, not one per crash.
 *
 * <p>The callback runs on the thread that commits, inside SQLite's commit, so listeners must be
 * quick and must not throw or touch the connection.
 */
public final class WalHook {
    private static final Logger log = LoggerFactory.getLogger(WalHook.class);
    private static final String ENTRY_POINT = "sqlite3_walship_init";

    /** Receives every commit of an attached connection. */
    @FunctionalInterface
    public interface CommitListener {
        /** @param frames valid frames in the WAL after the commit */
        void committed(int frames);
    }

    interface NativeLibrary extends Library {
        void walship_set_callback(CommitCallback callback);
    }

    /** JNA maps this to {@code void (*)(int64_t token, int32_t frames)}. */
    public interface CommitCallback extends Callback {
        void invoke(long token, int frames);
    }

    private static final Map<Long, CommitListener> LISTENERS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_TOKEN = new AtomicLong(1);
    private static final CommitCallback CALLBACK = WalHook::dispatch;
    /** What the hook's temporary directories are named after, and the lock file each holds. */
    static final String EXTRACTED_PREFIX = "walship-native";
    static final String IN_USE = "in-use.lock";
    /** A copy left alone this long by its process may be taken as abandoned (if its lock is free). */
    static final Duration ABANDONED_AFTER = Duration.ofMinutes(1);
    private static Path library;
    /** Held until the process ends: another process's sweep sees this copy is in use. */
    private static FileChannel inUseLock;
    private static NativeLibrary nativeLibrary;

    private WalHook() {
    }

    /**
     * Loads the extension into {@code connection} (whose extension loading must be enabled; the
     * extension switches it off again) and sends its commits to {@code listener}.
     *
     * @return a token for {@link #detach}
     */
    public static long attach(Connection connection, CommitListener listener) throws SQLException {
        Path path = library();
        try (PreparedStatement load = connection.prepareStatement("SELECT load_extension(?, ?)")) {
            load.setString(1, path.toString());
            load.setString(2, ENTRY_POINT);
            load.execute();
        }
        long token = NEXT_TOKEN.getAndIncrement();
        LISTENERS.put(token, listener);
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT walship_attach(" + token + ")")) {
            rs.next();
        } catch (SQLException e) {
            LISTENERS.remove(token);
            throw e;
        }
        return token;
    }

    /** Stops sending commits of {@code connection}; call before closing it. */
    public static void detach(Connection connection, long token) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT walship_detach()")) {
            rs.next();
        } finally {
            LISTENERS.remove(token);
        }
    }

    private static void dispatch(long token, int frames) {
        CommitListener listener = LISTENERS.get(token);
        if (listener == null) {
            return;
        }
        try {
            listener.committed(frames);
        } catch (Throwable t) {
            // An exception must not unwind through SQLite's C frames.
            log.error("commit listener failed token={} frames={}", token, frames, t);
        }
    }

    /** True when the jar carries the hook for this JVM's platform (it may still fail to load). */
    public static boolean shippedForThisPlatform() {
        String platform = platform(System.getProperty("os.name"), System.getProperty("os.arch"));
        return WalHook.class.getResource("native/" + platform + "/" + libraryName(platform)) != null;
    }

    private static synchronized Path library() {
        if (library == null) {
            String platform = platform(System.getProperty("os.name"), System.getProperty("os.arch"));
            String name = libraryName(platform);
            String resource = "native/" + platform + "/" + name;
            try (InputStream in = WalHook.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("walship has no WAL hook for " + platform + " (os.name="
                            + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch")
                            + "): it ships linux-x86_64, linux-aarch64, windows-x86_64, macos-x86_64 and"
                            + " macos-aarch64; build walship.c for this platform with build-natives.sh");
                }
                Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
                Path dir = Files.createTempDirectory(tmp, EXTRACTED_PREFIX);
                Path file = dir.resolve(name);
                Path inUse = dir.resolve(IN_USE);
                // deleted on exit in the reverse order of registering: the file, the lock, their directory
                dir.toFile().deleteOnExit();
                inUse.toFile().deleteOnExit();
                file.toFile().deleteOnExit();
                inUseLock = FileChannel.open(inUse, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                inUseLock.lock();
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                nativeLibrary = Native.load(file.toString(), NativeLibrary.class);
                nativeLibrary.walship_set_callback(CALLBACK);
                library = file;
                log.debug("wal hook loaded platform={} path={}", platform, file);
                // off the opening thread: a temporary directory of thousands of entries takes tens of ms to list
                Thread sweep = new Thread(() -> removeAbandoned(tmp, dir, ABANDONED_AFTER), "walship-hook-sweep");
                sweep.setDaemon(true);
                sweep.start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract the walship WAL hook", e);
            }
        }
        return library;
    }

    /**
     * Deletes the copies of the hook that processes which ended without exiting (kill -9, a
     * crash, a power cut) left in {@code tmp}: directories named {@value #EXTRACTED_PREFIX}...,
     * not {@code own}, not symbolic links, unchanged for {@code olderThan} (so that one being
     * created is never taken), whose {@value #IN_USE} file nobody holds a lock on. A live process
     * holds that lock until it ends, whatever way it ends. A directory without the file (an older
     * walship's) or that cannot be locked or read is left alone. Best effort: returns how many
     * were deleted.
     */
    static int removeAbandoned(Path tmp, Path own, Duration olderThan) {
        int removed = 0;
        long before = System.currentTimeMillis() - olderThan.toMillis();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmp, EXTRACTED_PREFIX + "*")) {
            for (Path dir : entries) {
                try {
                    if (dir.equals(own) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                            || Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS).toMillis() > before
                            || !Files.isRegularFile(dir.resolve(IN_USE), LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    if (removeIfUnlocked(dir)) {
                        removed++;
                    }
                } catch (IOException | RuntimeException e) {
                    log.debug("abandoned wal hook copy not removed path={} error={}", dir, e.toString());
                }
            }
        } catch (IOException e) {
            log.debug("abandoned wal hook copies not looked for dir={} error={}", tmp, e.toString());
        }
        if (removed > 0) {
            log.info("abandoned wal hook copies removed count={} dir={}", removed, tmp);
        }
        return removed;
    }

    private static boolean removeIfUnlocked(Path dir) throws IOException {
        Path inUse = dir.resolve(IN_USE);
        try (FileChannel channel = FileChannel.open(inUse, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return false; // its process is alive
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path file : files) {
                    if (!file.equals(inUse)) {
                        Files.delete(file);
                    }
                }
            }
            lock.release();
        } catch (OverlappingFileLockException e) {
            return false; // this process holds it
        }
        Files.delete(inUse);
        Files.delete(dir);
        return true;
    }

    /**
     * The directory of the prebuilt hook for a JVM's {@code os.name} and {@code os.arch}, e.g.
     * {@code linux-x86_64} or {@code macos-aarch64}. On Linux one build serves glibc and musl:
     * the extension uses no C library.
     */
    static String platform(String osName, String osArch) {
        String lower = osName.toLowerCase(Locale.ROOT);
        String os = lower.startsWith("windows") ? "windows"
                : lower.startsWith("mac") || lower.startsWith("darwin") ? "macos"
                : lower.replace(' ', '_');
        String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64", "x64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> osArch.toLowerCase(Locale.ROOT);
        };
        return os + "-" + arch;
    }

    /** The file name a platform's loader expects: {@code walship.dll}, {@code libwalship.dylib}, {@code libwalship.so}. */
    static String libraryName(String platform) {
        return platform.startsWith("windows-") ? "walship.dll"
                : platform.startsWith("macos-") ? "libwalship.dylib"
                : "libwalship.so";
    }
}
