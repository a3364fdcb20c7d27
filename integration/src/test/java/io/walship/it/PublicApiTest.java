package io.walship.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * walship's public surface is a decision, not an accident: every public type of the shipped
 * modules outside {@code io.walship.internal…}, nested ones included, is listed in
 * {@code src/test/resources/public-api.txt}. A type that becomes public, or stops being, fails
 * here until the list (reviewed as API) says so. ADR 0011.
 */
class PublicApiTest {
    private static final List<String> MODULES = List.of("wal-core", "storage-fs", "storage-s3", "replica", "walship-cli");

    private static TreeSet<String> publicTypes() throws IOException, ClassNotFoundException {
        TreeSet<String> types = new TreeSet<>();
        for (String module : MODULES) {
            Path classes = Path.of("..", module, "target", "classes").toAbsolutePath().normalize();
            assertThat(classes).as("compiled classes of %s", module).isDirectory();
            List<Path> files;
            try (Stream<Path> walk = Files.walk(classes)) {
                files = walk.filter(p -> p.toString().endsWith(".class")).toList();
            }
            for (Path file : files) {
                String name = classes.relativize(file).toString().replace(file.getFileSystem().getSeparator(), ".");
                name = name.substring(0, name.length() - ".class".length());
                if (name.endsWith("package-info") || name.contains(".internal.") || name.matches(".*\\$\\d.*")) {
                    continue; // internal, or an anonymous or local class
                }
                Class<?> type = Class.forName(name, false, PublicApiTest.class.getClassLoader());
                if (reachable(type)) {
                    types.add(type.getCanonicalName());
                }
            }
        }
        return types;
    }

    /** Public, and so is every type it is nested in: a user can name it. */
    private static boolean reachable(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
            if (!Modifier.isPublic(c.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    private static TreeSet<String> pinned() throws IOException {
        try (InputStream in = PublicApiTest.class.getResourceAsStream("/public-api.txt")) {
            assertThat(in).as("public-api.txt").isNotNull();
            TreeSet<String> types = new TreeSet<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String type = line.strip();
                if (!type.isEmpty() && !type.startsWith("#")) {
                    types.add(type);
                }
            }
            return types;
        }
    }

    @Test
    void publicTypesOutsideInternalPackages_areExactlyThePinnedList() throws Exception {
        TreeSet<String> actual = publicTypes();
        TreeSet<String> pinned = pinned();
        TreeSet<String> added = new TreeSet<>(actual);
        added.removeAll(pinned);
        TreeSet<String> removed = new TreeSet<>(pinned);
        removed.removeAll(actual);
        assertThat(added).as("public types not in public-api.txt (make them package-private, move them to an"
                + " internal package, or add them to the list as API)").isEmpty();
        assertThat(removed).as("types in public-api.txt that are no longer public").isEmpty();
    }
}
