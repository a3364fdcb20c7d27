package io.walship.storage.s3;

import io.walship.internal.BoundedInputStream;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * Amazon S3 or any S3-compatible store (MinIO, R2, B2, Tigris, Ceph…) as walship storage:
 * objects live under {@code <prefix>/} in one bucket.
 *
 * <p>Create-only writes use {@code If-None-Match: *}, so a second primary writing the same key
 * loses with HTTP 412 and is fenced. {@link Builder#open()} checks that the store honours it and
 * refuses to open otherwise, unless {@link Builder#conditionalWrites(boolean)} is switched off
 * explicitly (then nothing fences a second primary). Large files are uploaded in parallel
 * parts and read back with parallel ranged GETs. Credentials come from the caller's client or
 * from the AWS default chain; walship never logs them. Thread-safe.
 */
public final class S3Storage implements Storage {
    /*
     * Error mapping (see StorageException.Kind): 404 NoSuchBucket -> BUCKET_MISSING; 403
     * AccessDenied -> ACCESS_DENIED; 403 InvalidAccessKeyId / SignatureDoesNotMatch /
     * ExpiredToken -> BAD_CREDENTIALS; 301 / PermanentRedirect / AuthorizationHeaderMalformed
     * with a region -> WRONG_REGION; 429 and 503 SlowDown -> THROTTLED; other 5xx ->
     * SERVER_ERROR; client-side failures (connect, timeout) -> UNAVAILABLE. The SDK retries
     * retryable failures itself (standard strategy: exponential backoff with jitter, bounded by
     * maxAttempts); what still fails after that is thrown, and a primary retries it again later.
     */
    private static final Logger log = LoggerFactory.getLogger(S3Storage.class);
    private static final String PROBE_PREFIX = ".walship-probe/";
    /**
     * Reads of large objects go in ranges of this size, {@code parallelParts} of them fetched ahead
     * of the reader: the heap a restore or replica needs for S3 is {@code parallelParts} times this
     * (16 MiB by default), whatever the object's size.
     */
    static final long READ_RANGE_BYTES = 4L << 20;

    private final S3Client client;
    private final boolean ownsClient;
    private final String bucket;
    private final String prefix;
    private final boolean conditionalWrites;
    private final long multipartThresholdBytes;
    private final long partSizeBytes;
    private final int parallelParts;
    private final ExecutorService transfers;

    private S3Storage(Builder b, S3Client client, boolean ownsClient) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.bucket = b.bucket;
        this.prefix = b.prefix;
        this.conditionalWrites = b.conditionalWrites;
        this.multipartThresholdBytes = b.multipartThresholdBytes;
        this.partSizeBytes = b.partSizeBytes;
        this.parallelParts = b.parallelParts;
        this.transfers = Executors.newFixedThreadPool(b.parallelParts, r -> {
            Thread t = new Thread(r, "walship-s3-transfer");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A builder for storage in {@code bucket}; credentials come from the AWS default chain and the region is us-east-1
     * unless set.
     */
    public static Builder builder(String bucket) {
        return new Builder(bucket);
    }

    // ---------------------------------------------------------------- writes

    @Override
    public PutResult putIfAbsent(String key, byte[] content) {
        Objects.requireNonNull(content, "content");
        String name = objectName(key);
        return createOnly(key, name, () -> {
            client.putObject(putRequest(name), RequestBody.fromBytes(content));
            return PutResult.CREATED;
        });
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        Objects.requireNonNull(file, "file");
        String name = objectName(key);
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new StorageException("put", key, StorageException.Kind.IO, e.toString(), e);
        }
        return createOnly(key, name, () -> {
            if (size <= multipartThresholdBytes) {
                client.putObject(putRequest(name), RequestBody.fromFile(file));
                return PutResult.CREATED;
            }
            return multipart(key, name, file, size);
        });
    }

    /** Runs {@code upload} unless the object exists; a refused If-None-Match is ALREADY_EXISTS. */
    private PutResult createOnly(String key, String name, Supplier<PutResult> upload) {
        try {
            if (!conditionalWrites && exists(key, name)) {
                return PutResult.ALREADY_EXISTS;
            }
            return upload.get();
        } catch (S3Exception e) {
            if (isPreconditionFailed(e)) {
                return PutResult.ALREADY_EXISTS;
            }
            throw map("put", key, e);
        } catch (SdkException e) {
            throw map("put", key, e);
        }
    }

    private PutObjectRequest putRequest(String name) {
        PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(bucket).key(name);
        return conditionalWrites ? request.ifNoneMatch("*").build() : request.build();
    }

    /** Uploads parts in parallel; aborts the upload on any failure so no orphan parts stay billed. */
    private PutResult multipart(String key, String name, Path file, long size) {
        String uploadId = client.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(bucket)
                .key(name).build()).uploadId();
        try {
            List<Future<CompletedPart>> futures = new ArrayList<>();
            int partNumber = 1;
            for (long offset = 0; offset < size; offset += partSizeBytes, partNumber++) {
                long length = Math.min(partSizeBytes, size - offset);
                long from = offset;
                int number = partNumber;
                futures.add(transfers.submit(() -> {
                    String etag = client.uploadPart(UploadPartRequest.builder().bucket(bucket).key(name)
                                    .uploadId(uploadId).partNumber(number).contentLength(length).build(),
                            RequestBody.fromContentProvider(() -> slice(file, from, length), length,
                                    "application/octet-stream")).eTag();
                    return CompletedPart.builder().partNumber(number).eTag(etag).build();
                }));
            }
            List<CompletedPart> parts = new ArrayList<>();
            for (Future<CompletedPart> future : futures) {
                parts.add(future.get());
            }
            CompleteMultipartUploadRequest.Builder complete = CompleteMultipartUploadRequest.builder().bucket(bucket)
                    .key(name).uploadId(uploadId).multipartUpload(m -> m.parts(parts));
            client.completeMultipartUpload(conditionalWrites ? complete.ifNoneMatch("*").build() : complete.build());
            return PutResult.CREATED;
        } catch (ExecutionException | InterruptedException | RuntimeException e) {
            abort(key, name, uploadId);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            if (cause instanceof S3Exception && isPreconditionFailed((S3Exception) cause)) {
                return PutResult.ALREADY_EXISTS;
            }
            if (cause instanceof SdkException) {
                throw map("put", key, (SdkException) cause);
            }
            throw new StorageException("put", key, StorageException.Kind.UNAVAILABLE, cause.toString(), cause);
        }
    }

    private void abort(String key, String name, String uploadId) {
        try {
            client.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(name)
                    .uploadId(uploadId).build());
        } catch (SdkException e) {
            log.warn("multipart upload not aborted, parts may remain until a lifecycle rule removes them bucket={}"
                    + " key={} error={}", bucket, key, e.getMessage());
        }
    }

    private static InputStream slice(Path file, long offset, long length) {
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
            channel.position(offset);
            return new BoundedInputStream(Channels.newInputStream(channel), length);
        } catch (IOException e) {
            throw SdkClientException.create("cannot read part of " + file, e);
        }
    }

    private static boolean isPreconditionFailed(S3Exception e) {
        return e.statusCode() == 412;
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Optional<byte[]> get(String key) {
        try {
            ResponseBytes<GetObjectResponse> bytes = client.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket)
                    .key(objectName(key)).build());
            return Optional.of(bytes.asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw map("get", key, e);
        }
    }

    /** One ranged GET; a range starting at or past the end (416) reads as no bytes. */
    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("offset and length must be >= 0: " + offset + ", " + length);
        }
        try {
            if (length == 0) {
                return exists(key, objectName(key)) ? Optional.of(new byte[0]) : Optional.empty();
            }
            return Optional.of(client.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(objectName(key))
                    .range("bytes=" + offset + "-" + (offset + length - 1)).build()).asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            if (e.statusCode() == 416) {
                return Optional.of(new byte[0]);
            }
            throw map("get", key, e);
        } catch (SdkException e) {
            throw map("get", key, e);
        }
    }

    @Override
    public Optional<InputStream> open(String key) {
        String name = objectName(key);
        try {
            // One request for any object up to a range (nearly every segment); its Content-Range
            // gives the size, and the rest of a larger object comes in ranges fetched in parallel.
            ResponseInputStream<GetObjectResponse> first = client.getObject(GetObjectRequest.builder().bucket(bucket)
                    .key(name).range("bytes=0-" + (READ_RANGE_BYTES - 1)).build());
            long size = totalSize(first.response());
            if (size <= READ_RANGE_BYTES) {
                return Optional.of(new SdkErrorsAsIOException(key, first));
            }
            return Optional.of(new SdkErrorsAsIOException(key, new SequenceInputStream(first, new RangedInputStream(
                    READ_RANGE_BYTES, size, READ_RANGE_BYTES, parallelParts, transfers, (from, to) -> client.getObject(
                            GetObjectRequest.builder().bucket(bucket).key(name).range("bytes=" + from + "-" + to)
                                    .build())))));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            if (e.statusCode() == 416) { // an empty object has no byte 0
                return Optional.of(InputStream.nullInputStream());
            }
            throw map("get", key, e);
        } catch (SdkException e) {
            throw map("get", key, e);
        }
    }

    /**
     * The object's whole size from a ranged GET's Content-Range ({@code bytes 0-99/1234}), or its length when whole.
     */
    private static long totalSize(GetObjectResponse response) {
        String range = response.contentRange();
        if (range == null) {
            return response.contentLength(); // the server sent the whole object
        }
        return Long.parseLong(range.substring(range.lastIndexOf('/') + 1).trim());
    }

    @Override
    public List<ObjectInfo> list(String keyPrefix) {
        Objects.requireNonNull(keyPrefix, "prefix");
        List<ObjectInfo> result = new ArrayList<>();
        try {
            for (S3Object object : client.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket)
                    .prefix(prefix + keyPrefix).build()).contents()) {
                String key = object.key().substring(prefix.length());
                if (!key.startsWith(PROBE_PREFIX)) {
                    result.add(new ObjectInfo(key, object.size(), object.lastModified()));
                }
            }
        } catch (SdkException e) {
            throw map("list", keyPrefix, e);
        }
        result.sort((a, b) -> a.key().compareTo(b.key()));
        return result;
    }

    /** Keys one DeleteObjects request may name. */
    static final int DELETE_BATCH = 1000;

    @Override
    public void delete(String key) {
        try {
            client.deleteObject(r -> r.bucket(bucket).key(objectName(key)));
        } catch (SdkException e) {
            throw map("delete", key, e);
        }
    }

    /**
     * DeleteObjects in batches of {@value #DELETE_BATCH} keys (S3's limit), quiet mode: a batch is
     * one request however many keys, which is what keeps retention cheap. A key S3 reports as not
     * deleted fails the call, naming it; the keys before it in its batch may be gone.
     */
    @Override
    public void deleteAll(Collection<String> keys) {
        List<String> all = new ArrayList<>(keys);
        for (int from = 0; from < all.size(); from += DELETE_BATCH) {
            List<ObjectIdentifier> batch = all.subList(from, Math.min(all.size(), from + DELETE_BATCH)).stream()
                    .map(key -> ObjectIdentifier.builder().key(objectName(Storage.checkKey(key))).build()).toList();
            DeleteObjectsResponse response;
            try {
                response = client.deleteObjects(r -> r.bucket(bucket)
                        .delete(d -> d.objects(batch).quiet(true)));
            } catch (SdkException e) {
                throw map("delete", all.get(from), e);
            }
            if (response.hasErrors() && !response.errors().isEmpty()) {
                S3Error error = response.errors().get(0);
                String key = error.key().startsWith(prefix) ? error.key().substring(prefix.length()) : error.key();
                throw new StorageException("delete", key, StorageException.Kind.SERVER_ERROR,
                        "S3 did not delete it: " + error.code() + " " + error.message() + " ("
                                + response.errors().size() + " keys of the batch failed)", null);
            }
        }
    }

    /** Whether {@code name} exists; an SDK failure reaches the caller's mapping as it is. */
    private boolean exists(String key, String name) {
        try {
            client.headObject(r -> r.bucket(bucket).key(name));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw map("head", key, e);
        }
    }

    private String objectName(String key) {
        return prefix + Storage.checkKey(key);
    }

    // ---------------------------------------------------------------- errors

    static StorageException map(String operation, String key, SdkException e) {
        if (e instanceof S3Exception) {
            S3Exception s3 = (S3Exception) e;
            String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
            int status = s3.statusCode();
            StorageException.Kind kind;
            String hint;
            if ("NoSuchBucket".equals(code) || (status == 404 && code == null)) {
                kind = StorageException.Kind.BUCKET_MISSING;
                hint = "the bucket does not exist: create it or fix the URL";
            } else if ("InvalidAccessKeyId".equals(code) || "SignatureDoesNotMatch".equals(code)
                    || "ExpiredToken".equals(code) || "InvalidToken".equals(code)) {
                kind = StorageException.Kind.BAD_CREDENTIALS;
                hint = "the credentials are unknown, expired or wrong: check the AWS credential chain";
            } else if (status == 301 || "PermanentRedirect".equals(code) || "AuthorizationHeaderMalformed".equals(code)
                    || "IllegalLocationConstraintException".equals(code)) {
                kind = StorageException.Kind.WRONG_REGION;
                hint = "the bucket is in another region: set the region";
            } else if (status == 403) {
                kind = StorageException.Kind.ACCESS_DENIED;
                hint = "the credentials may not do this: check the bucket policy";
            } else if (status == 429 || "SlowDown".equals(code) || "Throttling".equals(code)) {
                kind = StorageException.Kind.THROTTLED;
                hint = "the store asks to slow down";
            } else if (status >= 500) {
                kind = StorageException.Kind.SERVER_ERROR;
                hint = "the store failed";
            } else if ("NotImplemented".equals(code)) {
                kind = StorageException.Kind.UNSUPPORTED;
                hint = "the store does not implement this request";
            } else {
                kind = StorageException.Kind.REJECTED;
                hint = null;
            }
            return new StorageException(operation, key, kind, "http=" + status + " code=" + code
                    + (hint == null ? "" : " (" + hint + ")"), e);
        }
        return new StorageException(operation, key, StorageException.Kind.UNAVAILABLE,
                e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        transfers.shutdownNow();
        if (ownsClient) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "s3://" + bucket + "/" + prefix;
    }

    /** Builds an {@link S3Storage}; {@link #open()} checks the bucket and conditional writes. */
    public static final class Builder {
        private final String bucket;
        private String prefix = "";
        private S3Client client;
        private URI endpoint;
        private String region;
        private boolean pathStyle;
        private boolean checksumsWhenRequired;
        private AwsCredentialsProvider credentials;
        private boolean conditionalWrites = true;
        private long multipartThresholdBytes = 64L << 20;
        private long partSizeBytes = 16L << 20;
        private int parallelParts = 4;
        private int maxAttempts = 6;
        private Duration apiCallTimeout = Duration.ofSeconds(60);

        private Builder(String bucket) {
            if (bucket == null || bucket.isBlank() || bucket.contains("/")) {
                throw new IllegalArgumentException("bucket must be a bucket name without '/': " + bucket);
            }
            this.bucket = bucket;
        }

        /** Key prefix inside the bucket, e.g. "apps/orders"; one database per prefix. */
        public Builder prefix(String value) {
            String p = Objects.requireNonNull(value, "prefix").replaceAll("^/+|/+$", "");
            prefix = p.isEmpty() ? "" : p + "/";
            return this;
        }

        /** Use the caller's client (its credentials, region, endpoint); walship will not close it. */
        public Builder client(S3Client value) {
            client = Objects.requireNonNull(value, "client");
            return this;
        }

        /** Endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000. */
        public Builder endpoint(URI value) {
            endpoint = Objects.requireNonNull(value, "endpoint");
            return this;
        }

        public Builder region(String value) {
            region = Objects.requireNonNull(value, "region");
            return this;
        }

        /** Path-style URLs (http://host/bucket/key), which most S3-compatible stores need. */
        public Builder pathStyle(boolean value) {
            pathStyle = value;
            return this;
        }

        /** Send and check the SDK's checksums only when the operation requires them (for stores that reject them). */
        public Builder checksumsWhenRequired(boolean value) {
            checksumsWhenRequired = value;
            return this;
        }

        /** Credentials, when not the AWS default provider chain. */
        public Builder credentials(AwsCredentialsProvider value) {
            credentials = Objects.requireNonNull(value, "credentials");
            return this;
        }

        /**
         * Whether the store honours {@code If-None-Match: *}. Switching it off opens stores that
         * do not, at a price: nothing then stops a second primary from overwriting the log.
         */
        public Builder conditionalWrites(boolean value) {
            conditionalWrites = value;
            return this;
        }

        public Builder multipartThresholdBytes(long value) {
            if (value < 5L << 20) {
                throw new IllegalArgumentException("multipartThresholdBytes must be >= 5 MiB: " + value);
            }
            multipartThresholdBytes = value;
            return this;
        }

        /** Size of multipart upload parts, read from the file as they are sent; S3 requires at least 5 MiB. */
        public Builder partSizeBytes(long value) {
            if (value < 5L << 20) {
                throw new IllegalArgumentException("partSizeBytes must be >= 5 MiB (S3's minimum part): " + value);
            }
            partSizeBytes = value;
            return this;
        }

        /** Parts uploaded, and read ranges fetched, at once (default 4); reads hold this many ranges of 4 MiB. */
        public Builder parallelParts(int value) {
            if (value < 1 || value > 64) {
                throw new IllegalArgumentException("parallelParts must be 1..64: " + value);
            }
            parallelParts = value;
            return this;
        }

        /** Attempts per request, including the first, with exponential backoff and jitter between them. */
        public Builder maxAttempts(int value) {
            if (value < 1 || value > 20) {
                throw new IllegalArgumentException("maxAttempts must be 1..20: " + value);
            }
            maxAttempts = value;
            return this;
        }

        public Builder apiCallTimeout(Duration value) {
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException("apiCallTimeout must be positive: " + value);
            }
            apiCallTimeout = value;
            return this;
        }

        /**
         * Opens the storage: checks that the bucket is reachable and, unless switched off, that
         * conditional writes work.
         *
         * @throws StorageException kind BUCKET_MISSING, ACCESS_DENIED, BAD_CREDENTIALS, WRONG_REGION,
         *                          UNAVAILABLE, or UNSUPPORTED when the store ignores If-None-Match
         */
        public S3Storage open() {
            if (client != null && (endpoint != null || region != null || credentials != null)) {
                throw new IllegalArgumentException("client(...) carries its own endpoint, region and credentials:"
                        + " do not combine it with endpoint(), region() or credentials()");
            }
            boolean owns = client == null;
            S3Client s3 = owns ? buildClient() : client;
            S3Storage storage = new S3Storage(this, s3, owns);
            try {
                s3.headBucket(HeadBucketRequest.builder().bucket(bucket).build());
                if (conditionalWrites) {
                    storage.checkConditionalWrites();
                } else {
                    log.warn("conditional writes off: a second primary on this storage is not fenced storage={}",
                            storage);
                }
                return storage;
            } catch (SdkException e) {
                storage.close();
                throw map("open", "s3://" + bucket + "/" + prefix, e);
            } catch (RuntimeException e) {
                storage.close();
                throw e;
            }
        }

        private S3Client buildClient() {
            S3ClientBuilder b = S3Client.builder()
                    .httpClientBuilder(ApacheHttpClient.builder().maxConnections(Math.max(16, parallelParts * 2))
                            .connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(30)))
                    .overrideConfiguration(o -> o.apiCallTimeout(apiCallTimeout)
                            .retryStrategy(r -> r.maxAttempts(maxAttempts)))
                    .forcePathStyle(pathStyle)
                    .credentialsProvider(credentials != null ? credentials : DefaultCredentialsProvider.builder().build());
            if (endpoint != null) {
                b.endpointOverride(endpoint);
            }
            b.region(Region.of(region != null ? region : "us-east-1"));
            if (checksumsWhenRequired) {
                b.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
            }
            return b.build();
        }
    }

    /** Writes a probe object twice with If-None-Match: the second write must be refused. */
    private void checkConditionalWrites() {
        String probe = PROBE_PREFIX + UUID.randomUUID();
        String name = prefix + probe;
        try {
            try {
                client.putObject(putRequest(name), RequestBody.fromBytes(new byte[] {1}));
            } catch (S3Exception e) {
                if (!isPreconditionFailed(e)) {
                    throw e;
                }
                // an attempt the SDK retried had landed: the probe (a fresh random key) exists, go on
            }
            try {
                client.putObject(putRequest(name), RequestBody.fromBytes(new byte[] {2}));
            } catch (S3Exception e) {
                if (isPreconditionFailed(e)) {
                    return;
                }
                if (e.statusCode() == 501 || e.statusCode() == 400) {
                    throw unsupported(e);
                }
                throw e;
            }
            throw unsupported(null);
        } finally {
            try {
                client.deleteObject(r -> r.bucket(bucket).key(name));
            } catch (SdkException e) {
                log.warn("probe object not deleted storage={} key={} error={}", this, probe, e.getMessage());
            }
        }
    }

    private StorageException unsupported(Throwable cause) {
        return new StorageException("open", toString(), StorageException.Kind.UNSUPPORTED,
                "the store does not honour If-None-Match: *, so it cannot fence a second primary; use a store that"
                        + " does (AWS S3, MinIO, R2, Tigris…) or open it with conditionalWrites(false) at your own risk",
                cause);
    }
}
