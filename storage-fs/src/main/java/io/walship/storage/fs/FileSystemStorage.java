package io.walship.storage.fs;

import io.walship.internal.FileDurability;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory used as walship storage: each key is a file below the root.
 *
 * <p>Thread-safe, and safe for several processes sharing the directory (also over NFS, as far
 * as {@code link(2)} is atomic there).
 */
public final class FileSystemStorage implements Storage {
    private static final Logger log = LoggerFactory.getLogger(FileSystemStorage.class);
    /*
     * Create-only writes, crash-safe:
     *
     *  1. write the bytes to <root>/.tmp/<random>, fdatasync it (large objects around the page
     *     cache: ObjectFile);
     *  2. link(2) it to its key: the link is created atomically and fails if the name exists,
     *     so of several concurrent creators exactly one wins and nobody ever sees a partial
     *     object under a key (rename(2) would silently replace a winner's object);
     *  3. fsync the key's directory, so the new name survives a power loss;
     *  4. remove the temporary name (also on every error path).
     *
     * A crash between 1 and 4 leaves only a file in .tmp, which no reader looks at; open()
     * removes leftovers older than an hour (younger ones may belong to a live writer in another
     * process). A full disk or quota fails step 1 with Kind.NO_SPACE; the partial temp file is
     * removed at once, so retries do not eat the space an operator frees.
     */
    private static final String TEMP_DIR = ".tmp";
    private static final Duration STALE_TEMP_AGE = Duration.ofHours(1);

    private final Path root;
    /** Followers' watch of this storage, shared by all of them; opened by the first. */
    private DirectoryWatch watch;
    private final Path temp;

    private FileSystemStorage(Path root) {
        this.root = root;
        this.temp = root.resolve(TEMP_DIR);
    }

    /** Uses {@code directory} as storage, creating it if needed. */
    public static FileSystemStorage open(Path directory) {
        Objects.requireNonNull(directory, "directory");
        Path root = directory.toAbsolutePath().normalize();
        try {
            Files.createDirectories(root.resolve(TEMP_DIR));
        } catch (IOException e) {
            throw new StorageException("open", root.toString(), false, "cannot create the storage directory", e);
        }
        FileSystemStorage storage = new FileSystemStorage(root);
        storage.removeStaleTempFiles(Instant.now().minus(STALE_TEMP_AGE));
        return storage;
    }

    /**
     * Uses {@code directory} as storage only if it exists: what readers (restore, follow, ls,
     * verify, compact) open, so that a mistyped path is reported instead of created empty.
     *
     * @throws StorageException {@link StorageException.Kind#BUCKET_MISSING} naming the path
     */
    public static FileSystemStorage openExisting(Path directory) {
        Objects.requireNonNull(directory, "directory");
        Path root = directory.toAbsolutePath().normalize();
        if (!Files.isDirectory(root)) {
            throw new StorageException("open", root.toString(), StorageException.Kind.BUCKET_MISSING,
                    (Files.exists(root) ? "not a directory: " : "no such directory: ") + root
                            + " (check the path; only a primary creates storage)", null);
        }
        return open(root);
    }

    /** Removes temp files last modified before {@code cutoff}: what a crashed writer left. */
    private void removeStaleTempFiles(Instant cutoff) {
        int removed = 0;
        try (Stream<Path> files = Files.list(temp)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                try {
                    if (Files.getLastModifiedTime(file).toInstant().isBefore(cutoff) && Files.deleteIfExists(file)) {
                        removed++;
                    }
                } catch (NoSuchFileException e) {
                    // its writer finished with it meanwhile
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            log.warn("stale temp files not removed dir={} error={}", temp, e.toString());
            return;
        }
        if (removed > 0) {
            log.info("stale temp files removed dir={} count={}", temp, removed);
        }
    }

    /** The directory holding the objects. */
    public Path root() {
        return root;
    }

    @Override
    public PutResult putIfAbsent(String key, byte[] content) {
        Objects.requireNonNull(content, "content");
        return put(key, content.length, out -> out.write(content, 0, content.length));
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        Objects.requireNonNull(file, "file");
        long bytes;
        try {
            bytes = Files.size(file);
        } catch (IOException e) {
            throw failure("put", key, e);
        }
        return put(key, bytes, out -> out.copyFrom(file));
    }

    private interface Content {
        void writeTo(ObjectFile out) throws IOException;
    }

    private PutResult put(String key, long bytes, Content content) {
        Path target = pathOf(key);
        Path tmp = temp.resolve(UUID.randomUUID() + ".tmp");
        try {
            if (Files.exists(target)) {
                return PutResult.ALREADY_EXISTS;
            }
            try (ObjectFile out = ObjectFile.create(tmp, bytes)) {
                content.writeTo(out);
                out.finish(); // data and size; the name is made durable by the directory fsync below
            }
            createDirectories(target.getParent());
            try {
                Files.createLink(target, tmp);
            } catch (FileAlreadyExistsException e) {
                return PutResult.ALREADY_EXISTS;
            }
            FileDurability.fsyncDirectory(target.getParent());
            return PutResult.CREATED;
        } catch (IOException e) {
            throw failure("put", key, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // The object is created (or not) either way; a leftover temp file only wastes space.
                log.warn("temp file not removed path={} error={}", tmp, e.toString());
            }
        }
    }

    /** ENOSPC and EDQUOT become {@link StorageException.Kind#NO_SPACE}, with what to do about it. */
    private StorageException failure(String operation, String key, IOException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("No space left on device") || message.contains("Disk quota exceeded")) {
            return new StorageException(operation, key, StorageException.Kind.NO_SPACE, "storage directory " + root
                    + " is full (" + message + "): free space or grow the volume; writes are retried and resume", e);
        }
        return new StorageException(operation, key, true, e.toString(), e);
    }

    @Override
    public Optional<byte[]> get(String key) {
        try {
            return Optional.of(Files.readAllBytes(pathOf(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new StorageException("get", key, true, e.toString(), e);
        }
    }

    @Override
    public Optional<InputStream> open(String key) {
        try {
            return Optional.of(Files.newInputStream(pathOf(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new StorageException("get", key, true, e.toString(), e);
        }
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("offset and length must be >= 0: " + offset + ", " + length);
        }
        try (FileChannel channel = FileChannel.open(pathOf(key), StandardOpenOption.READ)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) Math.max(0,
                    Math.min(length, channel.size() - offset)));
            while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) >= 0) {
                // positional reads until the range is full or the file ends
            }
            return Optional.of(buffer.position() == buffer.capacity() ? buffer.array()
                    : java.util.Arrays.copyOf(buffer.array(), buffer.position()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new StorageException("get", key, true, e.toString(), e);
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        int slash = prefix.lastIndexOf('/');
        Path dir = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<ObjectInfo> result = new ArrayList<>();
        try {
            // a compactor may delete objects while this walks: what vanished is simply not listed
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    String key = root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                    if (attributes.isRegularFile() && !key.startsWith(TEMP_DIR + "/") && key.startsWith(prefix)) {
                        result.add(new ObjectInfo(key, attributes.size(), attributes.lastModifiedTime().toInstant()));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
        } catch (IOException e) {
            throw new StorageException("list", prefix, true, e.toString(), e);
        }
        result.sort((a, b) -> a.key().compareTo(b.key()));
        return result;
    }

    @Override
    public void delete(String key) {
        try {
            Files.deleteIfExists(pathOf(key));
        } catch (IOException e) {
            throw new StorageException("delete", key, true, e.toString(), e);
        }
    }

    private Path pathOf(String key) {
        return root.resolve(Storage.checkKey(key));
    }

    private void createDirectories(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            FileDurability.fsyncDirectory(dir.getParent());
        }
    }

    /** Watches the directory of {@code prefix} (a prefix ending in {@code /}, like {@code log/}) and below. */
    @Override
    public Optional<Closeable> watch(String prefix, Runnable onChange) {
        Objects.requireNonNull(onChange, "onChange");
        if (!prefix.endsWith("/")) {
            return Optional.empty();
        }
        Path directory = root.resolve(Storage.checkKey(prefix.substring(0, prefix.length() - 1)));
        try {
            return Optional.of(watch().register(directory, onChange));
        } catch (IOException | UnsupportedOperationException e) {
            log.info("no watch on file storage, followers poll dir={} reason={}", directory, e.toString());
            return Optional.empty();
        }
    }

    private synchronized DirectoryWatch watch() throws IOException {
        if (watch == null) {
            watch = DirectoryWatch.open(root);
        }
        return watch;
    }

    /** Stops watching for followers; objects stay readable and writable. */
    @Override
    public synchronized void close() {
        if (watch != null) {
            try {
                watch.close();
            } catch (IOException e) {
                log.debug("storage watch not closed root={} error={}", root, e.toString());
            }
            watch = null;
        }
    }

    @Override
    public String toString() {
        return "file://" + root;
    }
}
