#pragma once

// The hub as the S3 layer sees it: commands (mutations, each serialised by its container's
// actor and durable when the reply arrives) and queries (reads of a consistent view snapshot).
// Messages are protobuf types from schema/vaultaire/hub.proto, so a spoke in another process
// needs a transport for them, not a different interface.

#include "common/async.h"
#include "common/errors.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire::actors {

class Hub {
 public:
  virtual ~Hub() = default;

  // Errors: Errc::kNoSuchContainer, kContainerExists, kContainerNotEmpty,
  // kInvalidContainerName, kInvalidPath, kIo, kShuttingDown, kActorRestarted.
  // A RecordRead completes once queued, before it is durable.
  virtual asio::awaitable<Result<proto::CommandReply>> execute(proto::Command command) = 0;

  // Errors: Errc::kNoSuchContainer, kNoSuchArtifact, kIo, kCorruption.
  virtual asio::awaitable<Result<proto::QueryReply>> query(proto::Query query) = 0;
};

}  // namespace vaultaire::actors
