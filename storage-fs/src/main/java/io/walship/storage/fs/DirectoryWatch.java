package io.walship.storage.fs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a follower that a name appeared under a directory of file storage (inotify on Linux,
 * through the JDK's {@link WatchService}), so it reads the new segment within a millisecond or
 * two instead of at its next poll. Subdirectories are watched too, including ones created later
 * (compacted objects live in {@code log/<level>/}). Events only wake the follower: it still polls,
 * so an event lost to an overflowing queue or a platform whose watch service itself polls costs
 * one poll interval, nothing more.
 */
final class DirectoryWatch implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(DirectoryWatch.class);

    private final WatchService service;
    private final Runnable onChange;
    private final Thread thread;

    private DirectoryWatch(WatchService service, Runnable onChange, String name) {
        this.service = service;
        this.onChange = onChange;
        this.thread = new Thread(this::run, "walship-watch-" + name);
        this.thread.setDaemon(true);
    }

    /** Starts watching {@code directory} (created if missing) and everything below it. */
    static DirectoryWatch start(Path directory, Runnable onChange) throws IOException {
        Files.createDirectories(directory);
        WatchService service = directory.getFileSystem().newWatchService();
        DirectoryWatch watch = new DirectoryWatch(service, onChange, directory.getFileName().toString());
        try {
            watch.registerTree(directory);
        } catch (IOException | RuntimeException e) {
            service.close();
            throw e;
        }
        watch.thread.start();
        return watch;
    }

    private void registerTree(Path directory) throws IOException {
        try (Stream<Path> dirs = Files.walk(directory)) {
            for (Path dir : (Iterable<Path>) dirs.filter(Files::isDirectory)::iterator) {
                dir.register(service, StandardWatchEventKinds.ENTRY_CREATE);
            }
        }
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
                onChange.run();
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed: done
        } catch (RuntimeException e) {
            log.warn("storage watch stopped, followers poll only error={}", e.toString());
        }
    }

    @Override
    public void close() throws IOException {
        service.close();
    }
}
