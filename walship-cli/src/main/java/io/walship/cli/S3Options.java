package io.walship.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/** Options for s3:// storage; credentials always come from the AWS default provider chain. */
final class S3Options {
    @Option(names = "--endpoint", paramLabel = "URL",
            description = "Endpoint of an S3-compatible store (MinIO, R2, B2, Tigris, Ceph), e.g. http://127.0.0.1:9000.")
    URI endpoint;

    @Option(names = "--region", paramLabel = "REGION", description = "Region of the bucket (default: us-east-1).")
    String region;

    @Option(names = "--path-style", description = "Path-style URLs (http://host/bucket/key), needed by most S3-compatible stores.")
    boolean pathStyle;

    @Option(names = "--checksums-when-required",
            description = "Send and check the SDK's checksums only where required (for stores that reject them).")
    boolean checksumsWhenRequired;
}
