/**
 * Internal, not API: pieces walship's own modules share below the log layer (the read connection
 * pool, ownership and durability of a local database file, a bounded stream for multipart
 * uploads). Public only so that the replica and storage modules can use them; they may change in
 * any release. See ADR 0011 and ADR 0025.
 */
package io.walship.internal;
