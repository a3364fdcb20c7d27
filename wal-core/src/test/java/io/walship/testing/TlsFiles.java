package io.walship.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * PKCS12 key and trust stores made by the JDK's keytool for TLS tests: a self-signed certificate
 * for {@code localhost} (and 127.0.0.1) per name, and SSL contexts built from them with
 * {@code StreamServer.tls}, as users build theirs.
 */
public final class TlsFiles {
    public static final char[] PASSWORD = "changeit-test".toCharArray();

    private final Path dir;

    public TlsFiles(Path dir) {
        this.dir = dir;
    }

    /** {@code <name>.p12} holding a new key and self-signed certificate for localhost. */
    public Path keyStore(String name) throws IOException, InterruptedException {
        Path store = dir.resolve(name + ".p12");
        if (!Files.exists(store)) {
            keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                    "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(PASSWORD));
        }
        return store;
    }

    /** {@code <name>-trust.p12} trusting the certificates of {@code names}' key stores. */
    public Path trustStore(String name, String... names) throws IOException, InterruptedException {
        Path store = dir.resolve(name + "-trust.p12");
        for (String trusted : names) {
            Path certificate = dir.resolve(trusted + ".cer");
            keytool("-exportcert", "-alias", trusted, "-keystore", keyStore(trusted).toString(), "-storepass",
                    new String(PASSWORD), "-file", certificate.toString());
            keytool("-importcert", "-noprompt", "-alias", trusted, "-file", certificate.toString(), "-storetype",
                    "PKCS12", "-keystore", store.toString(), "-storepass", new String(PASSWORD));
        }
        return store;
    }

    /** A context with the key of {@code keyStore} (null: none) trusting {@code trustStore} (null: the JDK's). */
    public static SSLContext context(Path keyStore, Path trustStore) throws Exception {
        return io.walship.StreamServer.tls(keyStore, trustStore, PASSWORD);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("keytool failed: " + String.join(" ", args) + ": " + new String(out));
        }
    }
}
