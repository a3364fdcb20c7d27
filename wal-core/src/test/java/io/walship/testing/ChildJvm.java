package io.walship.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A child JVM on this test's classpath, to be killed by a crash test. Its stderr is discarded unless redirected. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** Starts {@code mainClass} with {@code args}; its stdout goes to {@code output} (PIPE to read it). */
    public static Process start(ProcessBuilder.Redirect output, String mainClass, String... args) {
        return start(output, List.of(), Map.of(), mainClass, args);
    }

    /**
     * As {@link #start(ProcessBuilder.Redirect, String, String...)}, with JVM options (e.g. a heap cap
     * {@code -Xmx96m}; a {@code -cp} among them replaces this JVM's class path) and variables added
     * to the environment (e.g. credentials).
     */
    public static Process start(ProcessBuilder.Redirect output, List<String> jvmOptions,
                                Map<String, String> environment, String mainClass, String... args) {
        return start(output, ProcessBuilder.Redirect.DISCARD, jvmOptions, environment, mainClass, args);
    }

    /** As above, with the child's stderr sent to {@code error} (a file, to show when the child fails). */
    public static Process start(ProcessBuilder.Redirect output, ProcessBuilder.Redirect error, List<String> jvmOptions,
                                Map<String, String> environment, String mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        String capture = System.getProperty("walship.capture");
        if (capture != null) {
            command.add("-Dwalship.capture=" + capture); // a suite run in one capture mode runs its children in it
        }
        if (!jvmOptions.contains("-cp")) {
            command.addAll(List.of("-cp", System.getProperty("java.class.path")));
        }
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(output)
                .redirectError(error);
        builder.environment().putAll(environment);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a child JVM for " + mainClass, e);
        }
    }
}
