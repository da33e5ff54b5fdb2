#include "common/errors.h"

#include <string>

namespace vaultaire {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "vaultaire"; }
  std::string message(int value) const override {
    return std::string(errc_name(static_cast<Errc>(value)));
  }
};

}  // namespace

const boost::system::error_category& vaultaire_category() noexcept {
  static const Category category;
  return category;
}

std::string_view errc_name(Errc e) noexcept {
  switch (e) {
    case Errc::kInternal:
      return "internal";
    case Errc::kIo:
      return "io";
    case Errc::kCorruption:
      return "corruption";
    case Errc::kUnknownEvent:
      return "unknown_event";
    case Errc::kShuttingDown:
      return "shutting_down";
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kActorRestarted:
      return "actor_restarted";
    case Errc::kNoSuchContainer:
      return "no_such_container";
    case Errc::kContainerExists:
      return "container_exists";
    case Errc::kContainerNotEmpty:
      return "container_not_empty";
    case Errc::kInvalidContainerName:
      return "invalid_container_name";
    case Errc::kNoSuchArtifact:
      return "no_such_artifact";
    case Errc::kInvalidPath:
      return "invalid_path";
    case Errc::kTooManyContainers:
      return "too_many_containers";
    case Errc::kPreconditionFailed:
      return "precondition_failed";
    case Errc::kConflict:
      return "conflict";
    case Errc::kNoSuchUpload:
      return "no_such_upload";
    case Errc::kInvalidPart:
      return "invalid_part";
    case Errc::kInvalidPartOrder:
      return "invalid_part_order";
    case Errc::kEntityTooSmall:
      return "entity_too_small";
    case Errc::kQuotaExceeded:
      return "quota_exceeded";
    case Errc::kAlreadyExists:
      return "already_exists";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kNotEmpty:
      return "not_empty";
    case Errc::kAccessDenied:
      return "access_denied";
    case Errc::kInvalidName:
      return "invalid_name";
    case Errc::kNoSuchBlob:
      return "no_such_blob";
    case Errc::kInvalidRange:
      return "invalid_range";
    case Errc::kDriverUnavailable:
      return "driver_unavailable";
    case Errc::kChecksumMismatch:
      return "checksum_mismatch";
    case Errc::kContentSha256Mismatch:
      return "content_sha256_mismatch";
    case Errc::kIncompleteBody:
      return "incomplete_body";
    case Errc::kEntityTooLarge:
      return "entity_too_large";
    case Errc::kInvalidObjectState:
      return "invalid_object_state";
    case Errc::kRestoreInProgress:
      return "restore_in_progress";
  }
  return "unknown";
}

}  // namespace vaultaire
