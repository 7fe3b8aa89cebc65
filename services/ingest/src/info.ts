/**
 * `GET /info` as the LangSmith SDKs read it: `batch_ingest_config` sets their batch sizes and
 * whether they use `/runs/multipart`; `instance_flags.gzip_body_enabled` lets them gzip the body.
 * zstd is not offered: Node 20's zlib cannot decode it, so the SDKs fall back to gzip.
 */
export function infoBody(o: {
  readonly version: string;
  readonly maxBodyBytes: number;
  readonly batchSize: number;
}): Record<string, unknown> {
  return {
    version: o.version,
    license_expiration_time: null,
    batch_ingest_config: {
      use_multipart_endpoint: true,
      scale_up_qsize_trigger: 1000,
      scale_up_nthreads_limit: 16,
      scale_down_nempty_trigger: 4,
      size_limit: o.batchSize,
      size_limit_bytes: o.maxBodyBytes,
    },
    instance_flags: {
      gzip_body_enabled: true,
      zstd_compression_enabled: false,
      dataset_examples_multipart_enabled: false,
      examples_multipart_enabled: false,
    },
    customer_info: null,
    runhooks: { service: "ingest" },
  };
}
