// Micro-benchmarks (Google Benchmark) of the pure hot paths: verifying a SigV4 request,
// projecting an event, writing a 1000-entry listing as XML.
//
//   build/bin/micro_bench [--benchmark_filter=...]

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "common/logging.h"
#include "events/keys.h"
#include "events/projection.h"
#include "events/store.h"
#include "s3/auth.h"
#include "s3/xml.h"

namespace {

namespace s3 = vaultaire::s3;
namespace sigv4 = vaultaire::sigv4;

s3::RequestFacts signed_get(const std::string& secret) {
  s3::RequestFacts r;
  r.method = "GET";
  r.raw_path = "/bucket/some/key.bin";
  r.decoded_path = "/bucket/some/key.bin";
  r.headers = {{"host", "127.0.0.1:8080"},
               {"x-amz-content-sha256", std::string(sigv4::kUnsignedPayload)},
               {"x-amz-date", "20261121T120000Z"}};
  sigv4::CanonicalInput in{.method = r.method,
                           .canonical_uri = sigv4::canonical_uri(r.decoded_path, false),
                           .query = {},
                           .headers = r.headers,
                           .signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"},
                           .payload_hash = sigv4::kUnsignedPayload};
  const std::string scope = sigv4::scope("20261121", "us-east-1", "s3");
  const std::string sig = sigv4::signature(
      sigv4::signing_key(secret, "20261121", "us-east-1", "s3"),
      sigv4::string_to_sign("20261121T120000Z", scope, sigv4::canonical_request(in)));
  r.headers.push_back({"authorization", "AWS4-HMAC-SHA256 Credential=AKIDBENCH/" + scope +
                                            ", SignedHeaders=host;x-amz-content-sha256;x-amz-date"
                                            ", Signature=" + sig});
  return r;
}

void BM_AuthenticateSigV4Header(benchmark::State& state) {
  s3::StaticCredentialStore store;
  store.add({.access_key = "AKIDBENCH", .secret = "secret", .identity = {.tenant = "t", .principal = "AKIDBENCH"}});
  const s3::RequestFacts request = signed_get("secret");
  const int64_t now = 1'795'262'400;  // 2026-11-21T12:00:00Z
  for (auto _ : state) {
    auto r = s3::authenticate(request, store, {}, now);
    benchmark::DoNotOptimize(r);
    if (!r) state.SkipWithError("authentication failed");
  }
}
BENCHMARK(BM_AuthenticateSigV4Header);

void BM_ListingXml1000(benchmark::State& state) {
  for (auto _ : state) {
    s3::XmlWriter xml;
    xml.open("ListBucketResult", true).element("Name", "bucket");
    for (int i = 0; i < 1000; ++i) {
      xml.open("Contents")
          .element("Key", "photos/2026/11/img_" + std::to_string(i) + ".jpg")
          .element("LastModified", "2026-11-21T12:00:00.000Z")
          .element("ETag", "\"d41d8cd98f00b204e9800998ecf8427e\"")
          .element("Size", uint64_t{4096})
          .element("StorageClass", "STANDARD")
          .close("Contents");
    }
    xml.close("ListBucketResult");
    benchmark::DoNotOptimize(xml.take());
  }
}
BENCHMARK(BM_ListingXml1000);

void BM_ProjectArtifactCommitted(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / "vaultaire-micro-bench";
  std::filesystem::remove_all(dir);
  auto store = std::move(vaultaire::events::Store::open(dir, vaultaire::events::OpenMode::kPrimary).value());
  vaultaire::events::ViewTxn txn(*store);
  vaultaire::proto::Event e;
  e.set_tenant("t");
  e.set_container("bucket");
  auto* put = e.mutable_artifact_committed();
  put->set_size(4096);
  put->set_etag("d41d8cd98f00b204e9800998ecf8427e");
  put->set_driver("local");
  uint64_t i = 0;
  for (auto _ : state) {
    e.set_sequence(++i);
    e.set_path("objects/" + std::to_string(i));
    put->set_blob_id("blob" + std::to_string(i));
    auto r = vaultaire::events::project(e, txn);
    benchmark::DoNotOptimize(r);
    if (i % 4096 == 0) {
      state.PauseTiming();
      txn.clear();
      state.ResumeTiming();
    }
  }
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ProjectArtifactCommitted);

}  // namespace

int main(int argc, char** argv) {
  vaultaire::set_log_level("warn");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
