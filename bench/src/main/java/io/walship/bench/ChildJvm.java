package io.walship.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A measurement that needs its own JVM (a heap cap, a process to kill, CPU time of its own) runs
 * a main class of this jar in a child process and answers with one line on standard output.
 */
final class ChildJvm {
    private final Process process;
    private final BufferedReader out;

    private ChildJvm(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Starts {@code main} with this JVM's class path, the given JVM options and arguments. */
    static ChildJvm start(List<String> jvmOptions, Class<?> main, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start());
    }

    /** The next line the child printed, or null once it closed its output. */
    String readLine() throws IOException {
        return out.readLine();
    }

    /** Waits for the child to exit on its own and returns its exit code. */
    int waitFor() throws InterruptedException, IOException {
        try {
            return process.waitFor();
        } finally {
            out.close();
        }
    }

    /** SIGKILL, then waits until the child is gone. */
    void kill() throws InterruptedException, IOException {
        process.toHandle().destroyForcibly();
        waitFor();
    }
}
