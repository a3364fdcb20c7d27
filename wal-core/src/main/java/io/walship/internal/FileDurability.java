package io.walship.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * How walship handles the names of local files, in one place. A file is written and forced
 * under a temporary name, renamed over its final name atomically, and the directory is forced so
 * that the rename survives a crash of the machine (file-system storage, restores, replicas, the
 * primary's checkpoint record). A local database that left storage's history is never deleted:
 * it is renamed aside with everything belonging to it (primary and replica alike).
 */
public final class FileDurability {
    private FileDurability() {
    }

    /** The suffix of {@link #sealedFile}. */
    public static final String SEALED_SUFFIX = ".sealed";

    /**
     * Where a file is sealed (encrypted) before it is put: beside it, named after it with
     * {@link #SEALED_SUFFIX} ({@code <db>-walship-snapshot-<txid>.sealed},
     * {@code segment-….walship-spill.sealed}), so that what a killed process left is removed with
     * the leftovers of its source (FileOwnership, SegmentSpill).
     */
    public static Path sealedFile(Path source) {
        return source.toAbsolutePath().resolveSibling(source.getFileName() + SEALED_SUFFIX);
    }

    /** Forces a directory: the names created, renamed or removed in it survive a crash. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /**
     * Renames {@code temp} (already forced) to {@code target} atomically, replacing it when
     * {@code replace}, and forces the directory.
     */
    public static void moveIntoPlace(Path temp, Path target, boolean replace) throws IOException {
        if (replace) {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        }
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    /**
     * Renames {@code file} and its siblings with {@code suffixes} (e.g. {@code -wal}; the empty
     * suffix is the file itself) to {@code <name>.diverged-<millis>…}, then keeps only the
     * {@code keep} newest such copies: older ones are deleted, and with {@code keep} 0 so is this
     * one. Deletes nothing but copies this method made.
     *
     * @return the copy, or empty when none is kept
     */
    public static Optional<Path> moveAside(Path file, List<String> suffixes, long millis, int keep)
            throws IOException {
        long stamp = millis;
        while (anyExists(sibling(file, ".diverged-" + stamp), suffixes)) {
            stamp++; // two copies in one millisecond: never replace the earlier one
        }
        Path aside = sibling(file, ".diverged-" + stamp);
        for (String suffix : suffixes) {
            Path from = sibling(file, suffix);
            if (Files.exists(from)) {
                Files.move(from, sibling(aside, suffix), StandardCopyOption.ATOMIC_MOVE);
            }
        }
        Pattern copy = Pattern.compile(Pattern.quote(file.getFileName() + ".diverged-") + "(\\d+)");
        List<Path> copies;
        try (Stream<Path> siblings = Files.list(file.toAbsolutePath().getParent())) {
            copies = siblings.filter(p -> copy.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparingLong((Path p) -> millisOf(copy, p)).reversed())
                    .toList();
        }
        for (Path old : copies.subList(Math.min(keep, copies.size()), copies.size())) {
            for (String suffix : suffixes) {
                Files.deleteIfExists(sibling(old, suffix));
            }
        }
        fsyncDirectory(file.toAbsolutePath().getParent());
        return keep > 0 ? Optional.of(aside) : Optional.empty();
    }

    /** True when {@code file} or any of its siblings with {@code suffixes} exists. */
    public static boolean anyExists(Path file, List<String> suffixes) {
        return suffixes.stream().anyMatch(suffix -> Files.exists(sibling(file, suffix)));
    }

    private static long millisOf(Pattern copy, Path file) {
        Matcher m = copy.matcher(file.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : 0;
    }

    /** {@code file}'s sibling named {@code file}'s name + {@code suffix} ({@code -wal}, {@code .walship-restore}…). */
    public static Path sibling(Path file, String suffix) {
        return file.resolveSibling(file.getFileName() + suffix);
    }
}
