package io.walship.storage.s3;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpResponse;

/**
 * Turns a share of real responses from the S3 server into 500 / 503 SlowDown errors, after the
 * server handled the request (so a failed PUT may well have landed, as with a real timeout),
 * and delays requests. Seeded, per instance.
 */
final class FaultInjector implements ExecutionInterceptor {
    private final Random random;
    private final double rate;
    private final long maxDelayMillis;
    private final Predicate<SdkHttpRequest> applies;
    final AtomicLong injected = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    private final ThreadLocal<Integer> status = new ThreadLocal<>();
    private volatile double slowShare;
    private volatile long slowMillis;

    FaultInjector(long seed, double rate, long maxDelayMillis, Predicate<SdkHttpRequest> applies) {
        this.random = new Random(seed);
        this.rate = rate;
        this.maxDelayMillis = maxDelayMillis;
        this.applies = applies;
    }

    /**
     * Holds back {@code share} of the responses to matching requests for {@code millis}, after the
     * server handled them: a client with a shorter attempt timeout gives up on a request that
     * landed, the case a create-only retry must recognise as its own.
     */
    FaultInjector slowResponses(double share, long millis) {
        this.slowShare = share;
        this.slowMillis = millis;
        return this;
    }

    private synchronized double next() {
        return random.nextDouble();
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        requests.incrementAndGet();
        if (maxDelayMillis > 0) {
            try {
                Thread.sleep((long) (next() * maxDelayMillis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
        status.remove();
        if (slowShare > 0 && applies.test(context.httpRequest()) && next() < slowShare) {
            injected.incrementAndGet();
            try {
                Thread.sleep(slowMillis); // the SDK's attempt timeout interrupts this
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (applies.test(context.httpRequest()) && next() < rate) {
            injected.incrementAndGet();
            int code = next() < 0.5 ? 503 : 500;
            status.set(code);
            return context.httpResponse().toBuilder().statusCode(code).build();
        }
        return context.httpResponse();
    }

    @Override
    public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                                                           ExecutionAttributes attributes) {
        Integer code = status.get();
        if (code == null) {
            return context.responseBody();
        }
        String error = code == 503 ? "SlowDown" : "InternalError";
        String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + error + "</Code><Message>injected"
                + "</Message></Error>";
        return Optional.of(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }
}
