package io.walship.storage.fs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells followers that a name appeared under a directory of file storage (inotify on Linux,
 * through the JDK's {@link WatchService}), so each reads the new segment within a millisecond or
 * two instead of at its next poll. Subdirectories are watched too, including ones created later
 * (compacted objects live in {@code log/<level>/}). Events only wake a follower: it still polls,
 * so an event lost to an overflowing queue or a platform whose watch service itself polls costs
 * one poll interval, nothing more.
 */
final class DirectoryWatch implements Closeable {
    /*
     * One per storage, shared by every watcher of it: one WatchService and one thread, however
     * many followers (a runtime of 1,000 replicas on one root watches through this one thread;
     * Linux allows a user 128 inotify instances by default, so one each would not even open).
     * A registration covers its directory and everything below; an event on a directory wakes
     * every registration above it. Keys are cancelled once no registration covers them.
     */
    private static final Logger log = LoggerFactory.getLogger(DirectoryWatch.class);

    private final WatchService service;
    private final Thread thread;
    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    /** Every directory watched, by key; guarded by this. */
    private final Map<WatchKey, Path> keys = new HashMap<>();

    private record Registration(Path directory, Runnable onChange) {
    }

    private DirectoryWatch(WatchService service, String name) {
        this.service = service;
        this.thread = new Thread(this::run, "walship-watch-" + name);
        this.thread.setDaemon(true);
    }

    /** A watch of storage at {@code root}; its thread starts with the first registration. */
    static DirectoryWatch open(Path root) throws IOException {
        return new DirectoryWatch(root.getFileSystem().newWatchService(), String.valueOf(root.getFileName()));
    }

    /** Starts telling {@code onChange} of names created under {@code directory} (created if missing). */
    synchronized Closeable register(Path directory, Runnable onChange) throws IOException {
        Files.createDirectories(directory);
        registerTree(directory);
        Registration registration = new Registration(directory, onChange);
        registrations.add(registration);
        if (!thread.isAlive()) {
            thread.start();
        }
        return () -> unregister(registration);
    }

    private synchronized void unregister(Registration registration) {
        registrations.remove(registration);
        keys.entrySet().removeIf(entry -> {
            boolean covered = registrations.stream().anyMatch(r -> entry.getValue().startsWith(r.directory()));
            if (!covered) {
                entry.getKey().cancel();
            }
            return !covered;
        });
    }

    /**
     * Watches {@code directory} and every directory below it. One below that vanishes meanwhile
     * (compaction deleting a level or a transaction's parts while a follower starts) is passed
     * over: there is nothing left in it to watch. Only {@code directory} itself must exist.
     */
    private synchronized void registerTree(Path directory) throws IOException {
        Files.walkFileTree(directory, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) throws IOException {
                try {
                    keys.put(dir.register(service, StandardWatchEventKinds.ENTRY_CREATE), dir);
                    return FileVisitResult.CONTINUE;
                } catch (NoSuchFileException e) {
                    return vanished(dir, e, FileVisitResult.SKIP_SUBTREE);
                }
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                return vanished(file, e, FileVisitResult.CONTINUE);
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                return e == null ? FileVisitResult.CONTINUE : vanished(dir, e, FileVisitResult.CONTINUE);
            }

            private FileVisitResult vanished(Path path, IOException e, FileVisitResult then) throws IOException {
                if (e instanceof NoSuchFileException && !path.equals(directory)) {
                    return then;
                }
                throw e;
            }
        });
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = service.take();
                Path dir = (Path) key.watchable();
                for (WatchEvent<?> event : key.pollEvents()) {
                    if (event.context() instanceof Path name && Files.isDirectory(dir.resolve(name))) {
                        try {
                            registerTree(dir.resolve(name)); // a new level directory: watch it too
                        } catch (IOException e) {
                            log.debug("new directory not watched dir={} error={}", dir.resolve(name), e.toString());
                        }
                    }
                }
                key.reset();
                for (Registration r : registrations) { // a snapshot: registering meanwhile does not disturb it
                    if (dir.startsWith(r.directory())) {
                        r.onChange().run();
                    }
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed: done
        } catch (RuntimeException e) {
            log.warn("storage watch stopped, followers poll only error={}", e.toString());
        }
    }

    /** Ends every registration and the thread. */
    @Override
    public void close() throws IOException {
        service.close();
    }
}
