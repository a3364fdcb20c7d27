/**
 * Internal, not API: how walship records its meters ({@code Metrics}: a no-op, or Micrometer
 * when a registry is given; {@code MeteredStorage}: every storage call timed). What users see is
 * {@code io.walship.metrics.WalshipMeter}, the list of meters, and the {@code meterRegistry}
 * options. Public only for walship's own modules; may change in any release. ADR 0011.
 */
package io.walship.internal.metrics;
