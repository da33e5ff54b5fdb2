#pragma once

// Builds a realistic event log for the replay benchmark, through the real writer: every event is
// appended with EventLog (sync off, many appends in flight, so they group into batches of up to
// max_batch_events), so the log has exactly the keys, encoding and compression a server writes,
// and the live views are projected as a server would project them.
//
// The mix, after one ContainerCreated per container (spread over `tenants` tenants):
//   55%  ArtifactCommitted: a PUT with content headers, two user-metadata entries and a
//        checksum; a fifth of them overwrite a live artifact, the rest create one
//   30%  ArtifactRead of a live artifact (one in ten a HEAD, one in twenty ranged)
//    8%  ArtifactDeleted of a live artifact
//    7%  multipart: UploadCreated, PartUploaded (2-5 parts of 5-16 MiB), and the completing
//        ArtifactCommitted (segments, completed_upload_id), interleaved over up to 32 open
//        uploads
// The choices come from a seeded generator and are appended in order, so one seed gives the
// same sequence of event types and paths; ids (blob, upload, request) are random as a server's.

#include <cstdint>
#include <map>
#include <string>

#include "common/errors.h"
#include "events/store.h"

namespace vaultaire::bench {

struct GenerateOptions {
  uint64_t events = 10'000'000;  // total events appended, containers included
  uint32_t containers = 1000;
  uint32_t tenants = 8;
  uint64_t seed = 42;
  size_t in_flight = 32768;  // appends awaiting completion at most
};

struct GenerateStats {
  uint64_t appended = 0;
  uint64_t refused = 0;  // appends a projection refused (none expected: the mix is consistent)
  double seconds = 0;
  std::map<std::string, uint64_t> by_type;  // event_type_name() -> events appended
};

// Appends options.events events to the log of `store` (expected empty), printing progress to
// stderr every 10 s. Fails when the log cannot be opened or an append fails for another reason than
// a projection's refusal.
[[nodiscard]] Result<GenerateStats> generate_log(events::Store& store,
                                                 const GenerateOptions& options);

}  // namespace vaultaire::bench
