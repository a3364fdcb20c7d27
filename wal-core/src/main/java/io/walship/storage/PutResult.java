package io.walship.storage;

/** Outcome of a create-only write. Losing the race is an expected outcome, not an exception. */
public enum PutResult {
    /** The object did not exist and now holds the given bytes. */
    CREATED,
    /** An object already existed under the key; it was left unchanged. */
    ALREADY_EXISTS
}
