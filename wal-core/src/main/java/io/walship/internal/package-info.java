/**
 * Internal, not API: pieces walship's own modules share (the read connection pool, ownership of
 * a local database file). Public only so that the replica module can use them; they may change
 * in any release. See ADR 0011.
 */
package io.walship.internal;
