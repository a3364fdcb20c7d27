package io.walship.internal.capture;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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
 * <p>The extension is extracted from the jar once per process, loaded into a sqlite-jdbc
 * connection with {@code load_extension} (so it runs inside the SQLite copy sqlite-jdbc
 * loaded, never a second one) and opened a second time through JNA to install one native
 * callback. The callback object is held in a static field so the garbage collector never frees
 * the native stub while SQLite may call it.
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
    private static Path library;
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
                Path dir = Files.createTempDirectory("walship-native");
                Path file = dir.resolve(name);
                // deleted on exit in the reverse order of registering: the file, then its directory
                dir.toFile().deleteOnExit();
                file.toFile().deleteOnExit();
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                nativeLibrary = Native.load(file.toString(), NativeLibrary.class);
                nativeLibrary.walship_set_callback(CALLBACK);
                library = file;
                log.debug("wal hook loaded platform={} path={}", platform, file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract the walship WAL hook", e);
            }
        }
        return library;
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
