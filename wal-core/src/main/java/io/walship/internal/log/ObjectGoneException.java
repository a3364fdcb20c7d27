package io.walship.internal.log;

import java.io.IOException;

/**
 * A listed object was not there when read: compaction or retention deleted it after the
 * listing. Not an error of storage; the reader lists again and plans from where it stands.
 */
public final class ObjectGoneException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ObjectGoneException(String key) {
        super(key + " was listed but is gone (deleted by compaction or retention since the listing)");
        this.key = key;
    }

    public String key() {
        return key;
    }
}
