package io.walship.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An error as one line in words for an operator: what happened to which file or key, never a
 * Java type name ({@code java.io.IOException: ...} inside a message loses its prefix). The
 * type and stack trace are for {@code --debug}.
 */
final class ErrorMessage {
    /** A qualified exception type and its colon, as Throwable.toString() writes them into messages. */
    private static final Pattern TYPE_PREFIX =
            Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)(?::\\s*)?");

    private ErrorMessage() {
    }

    static String of(Throwable e) {
        String words = fileProblem(e);
        if (words == null && e.getCause() != null && (e.getMessage() == null
                || e.getMessage().equals(e.getCause().toString()))) {
            words = fileProblem(e.getCause()); // a wrapper that only repeats its cause
        }
        if (words == null) {
            String message = e.getMessage() != null ? e.getMessage()
                    : e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage()
                    : "unexpected failure";
            words = TYPE_PREFIX.matcher(message).replaceAll("");
        }
        return words.isBlank() ? "unexpected failure" : words.strip();
    }

    private static String fileProblem(Throwable e) {
        if (!(e instanceof FileSystemException)) {
            return null;
        }
        FileSystemException f = (FileSystemException) e;
        String file = f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
        String what = e instanceof NoSuchFileException ? "no such file or directory"
                : e instanceof AccessDeniedException ? "permission denied"
                : e instanceof FileAlreadyExistsException ? "already exists"
                : e instanceof NotDirectoryException ? "not a directory"
                : e instanceof DirectoryNotEmptyException ? "directory not empty"
                : f.getReason() != null ? f.getReason().toLowerCase(Locale.ROOT) : "file system error";
        return what + ": " + file;
    }
}
