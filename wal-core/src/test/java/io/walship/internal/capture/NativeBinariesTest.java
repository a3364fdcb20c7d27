package io.walship.internal.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The prebuilt WAL hooks the jar carries: built from the walship.c beside them, and each one
 * well-formed for its platform's loader (format, machine, both entry points exported, nothing
 * needed from a C library or any other library). Platforms this machine cannot run are checked
 * here and only here; linux-x86_64 is also loaded by every Primary test, linux-aarch64 by
 * {@link Aarch64HookTest} under qemu.
 */
class NativeBinariesTest {
    private static final Path SOURCE = Path.of("src/main/c/walship.c");

    @Test
    void binaries_builtFromTheCommittedSource() throws Exception {
        String recorded = new String(resource("walship.c.sha256"), StandardCharsets.US_ASCII).trim();
        String actual = HexFormat.of().formatHex(sha256(Files.readAllBytes(SOURCE)));
        assertThat(actual).as("walship.c changed since the WAL hook binaries were built: run"
                + " wal-core/src/main/c/build-natives.sh and commit what it writes").isEqualTo(recorded);
    }

    @ParameterizedTest
    @CsvSource({
        "linux-x86_64,   ELF,    x86_64",
        "linux-aarch64,  ELF,    aarch64",
        "windows-x86_64, PE,     x86_64",
        "macos-x86_64,   Mach-O, x86_64",
        "macos-aarch64,  Mach-O, aarch64",
    })
    void binary_isALibraryItsLoaderAcceptsAndNeedsNothingElse(String platform, String format, String machine)
            throws Exception {
        NativeObjectFile file = NativeObjectFile.parse(resource(platform + "/" + WalHook.libraryName(platform)));

        assertThat(file.format()).isEqualTo(format);
        assertThat(file.machine()).isEqualTo(machine);
        assertThat(file.exported()).containsExactlyInAnyOrder("sqlite3_walship_init", "walship_set_callback");
        assertThat(file.needs()).as("libraries or symbols it would need at load").isEmpty();
        if (platform.equals("macos-aarch64")) {
            assertThat(file.codeSignature()).as("Apple silicon refuses unsigned code").isTrue();
        }
    }

    @ParameterizedTest
    @CsvSource({
        "Linux,       amd64,   linux-x86_64",
        "Linux,       aarch64, linux-aarch64",
        "Mac OS X,    x86_64,  macos-x86_64",
        "Mac OS X,    aarch64, macos-aarch64",
        "Windows 11,  amd64,   windows-x86_64",
        "Windows Server 2022, amd64, windows-x86_64",
        "FreeBSD,     amd64,   freebsd-x86_64",
    })
    void platform_namesTheDirectoryOfItsHook(String osName, String osArch, String expected) {
        assertThat(WalHook.platform(osName, osArch)).isEqualTo(expected);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = WalHook.class.getResourceAsStream("native/" + name)) {
            assertThat(in).as("resource native/" + name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static byte[] sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }
}
