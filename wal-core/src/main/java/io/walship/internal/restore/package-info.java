/**
 * Internal, not API: the pieces of restoring and replaying the stored log that the primary, the
 * replica and the compactor share (fetching objects, planning, applying pages, positions). The
 * API is {@code io.walship.restore}: {@code Restore}, {@code RestoreTarget}, {@code Verifier},
 * {@code LogCatalog}. Public only for walship's own modules; may change in any release. ADR 0011.
 */
package io.walship.internal.restore;
