package io.walship.cli;

import io.walship.TxidNotAvailableException;
import io.walship.encryption.Encryption;
import io.walship.encryption.KeyProvider;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.TreeSet;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The storage URL every command takes as its first argument. */
final class StorageOption {
    /** Where storage is when STORAGE is not given: for services configured by their environment. */
    static final String STORAGE_VARIABLE = "WALSHIP_STORAGE";

    @Parameters(index = "0", arity = "0..1", paramLabel = "STORAGE", defaultValue = "${env:" + STORAGE_VARIABLE + "}",
            description = "Where the log is stored: file:///path/to/dir (or a plain path), or s3://bucket/prefix."
                    + " Default: the " + STORAGE_VARIABLE + " environment variable.")
    String url;

    @ArgGroup(exclusive = false, heading = "S3 options:%n")
    S3Options s3 = new S3Options();

    /** Where the keys of an encrypted storage are when no option names them. */
    static final String KEYS_VARIABLE = "WALSHIP_KEYS";

    @Option(names = "--keys-file", paramLabel = "FILE",
            description = "Encrypted storage: the keys, as id:base64[,id:base64...] (the first current)."
                    + " Default: the " + KEYS_VARIABLE + " environment variable, if set.")
    Path keysFile;

    @Option(names = "--keys-env", paramLabel = "VAR",
            description = "Encrypted storage: the environment variable holding the keys (as --keys-file).")
    String keysVariable;

    @Option(names = "--allow-plaintext",
            description = "With keys: also read plaintext objects (moving a storage to encryption).")
    boolean allowPlaintext;

    /** A command that reads one database's storage, given by a {@link StorageOption}. */
    interface WithStorage {
        StorageOption storage();
    }

    /** Database names shown by {@link #sharedRootHint()} before "and N more". */
    private static final int NAMES_SHOWN = 10;

    /**
     * When this storage holds no history of its own but databases under names (the shared root
     * of a {@code Walship} runtime, given where one of its databases was meant): what it holds
     * and what to give instead. Empty otherwise, or when storage cannot be listed (the error at
     * hand says more). Lists the whole root: only for an operator's mistake, not on every run.
     */
    Optional<String> sharedRootHint() {
        TreeSet<String> names = new TreeSet<>();
        try (Storage opened = openExisting()) {
            for (ObjectInfo object : opened.list("")) {
                int slash = object.key().indexOf('/');
                if (slash > 0 && object.key().startsWith(ObjectKey.SNAPSHOT_PREFIX, slash + 1)) {
                    names.add(object.key().substring(0, slash));
                }
            }
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        if (names.isEmpty()) {
            return Optional.empty();
        }
        String shown = String.join(", ", names.stream().limit(NAMES_SHOWN).toList())
                + (names.size() > NAMES_SHOWN ? " and " + (names.size() - NAMES_SHOWN) + " more" : "");
        String masked = StorageUrl.mask(url);
        int query = masked.indexOf('?');
        String base = query < 0 ? masked : masked.substring(0, query);
        String example = (base.endsWith("/") ? base : base + "/") + names.first() + (query < 0 ? "" : masked.substring(query));
        return Optional.of("this is the shared root of " + names.size() + " database" + (names.size() == 1 ? "" : "s")
                + " (" + shown + "): give one of them, e.g. " + example);
    }

    /**
     * When {@code failure} says this storage holds no history at all and it is a runtime's shared
     * root: what it holds and what to give instead (see {@link #sharedRootHint()}); else empty.
     */
    Optional<String> sharedRootHint(Throwable failure) {
        return failure instanceof TxidNotAvailableException t && t.latest() < 0 ? sharedRootHint() : Optional.empty();
    }

    /** Opens an existing storage: a missing directory or bucket is refused, never created. */
    Storage openExisting() {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("no storage given: put it first (file:///dir or s3://bucket/prefix)"
                    + " or set " + STORAGE_VARIABLE);
        }
        Storage storage = StorageUrl.parse(url).open(s3 == null ? new S3Options() : s3);
        Optional<Encryption> encryption = encryption();
        return encryption.isEmpty() ? storage : encryption.get().wrap(storage);
    }

    /** The keys given by --keys-file, --keys-env or WALSHIP_KEYS, in that order; empty: none (plaintext). */
    Optional<Encryption> encryption() {
        KeyProvider keys;
        if (keysFile != null) {
            keys = KeyProvider.fromFile(keysFile);
        } else if (keysVariable != null) {
            keys = KeyProvider.fromEnvironment(keysVariable);
        } else if (System.getenv(KEYS_VARIABLE) != null && !System.getenv(KEYS_VARIABLE).isBlank()) {
            keys = KeyProvider.fromEnvironment(KEYS_VARIABLE);
        } else if (allowPlaintext) {
            throw new IllegalArgumentException("--allow-plaintext needs keys (--keys-file, --keys-env or "
                    + KEYS_VARIABLE + ")");
        } else {
            return Optional.empty();
        }
        Encryption encryption = Encryption.with(keys);
        return Optional.of(allowPlaintext ? encryption.allowingPlaintext() : encryption);
    }

    /**
     * Refuses a local file whose directory does not exist, before storage is opened: a typo
     * in a path is a usage error (exit 2) naming the directory, not a failure half way.
     */
    static void requireDirectoryOf(Path file, String option) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("the directory of " + option + " does not exist: " + parent
                    + " (create it, or give another path)");
        }
    }

    @Override
    public String toString() {
        return StorageUrl.mask(url);
    }
}
