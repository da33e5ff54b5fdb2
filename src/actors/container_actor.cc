#include "actors/container_actor.h"

#include <algorithm>
#include <unordered_map>

#include "common/checksum.h"
#include "common/crypto.h"
#include "events/names.h"

namespace vaultaire::actors {

proto::Event event_for(proto::Command command) {
  proto::Event e;
  proto::RequestContext& ctx = *command.mutable_context();
  e.set_tenant(std::move(*ctx.mutable_tenant()));
  e.set_container(std::move(*command.mutable_container()));
  e.set_path(std::move(*command.mutable_path()));
  e.set_request_id(std::move(*ctx.mutable_request_id()));
  e.set_principal(std::move(*ctx.mutable_principal()));
  e.set_source_address(std::move(*ctx.mutable_source_address()));
  e.set_user_agent(std::move(*ctx.mutable_user_agent()));
  e.set_spoke_id(std::move(*ctx.mutable_spoke_id()));
  switch (command.op_case()) {
    case proto::Command::kCreateContainer:
      e.mutable_container_created()->set_region(command.create_container().region());
      e.mutable_container_created()->set_acl(command.create_container().acl());
      break;
    case proto::Command::kDeleteContainer:
      e.mutable_container_deleted();
      break;
    case proto::Command::kCommitArtifact:
      e.mutable_artifact_committed()->Swap(command.mutable_commit_artifact()->mutable_artifact());
      break;
    case proto::Command::kDeleteArtifact:
      e.mutable_artifact_deleted();
      break;
    case proto::Command::kRecordRead:
      e.mutable_artifact_read()->Swap(command.mutable_record_read()->mutable_read());
      break;
    case proto::Command::kTagArtifact:
      e.mutable_artifact_tagged()->mutable_tags()->Swap(
          command.mutable_tag_artifact()->mutable_tags());
      break;
    case proto::Command::kCreateUpload:
      e.mutable_upload_created()->Swap(command.mutable_create_upload()->mutable_upload());
      break;
    case proto::Command::kUploadPart:
      e.mutable_part_uploaded()->Swap(command.mutable_upload_part()->mutable_part());
      break;
    case proto::Command::kAbortUpload:
      e.mutable_upload_aborted()->set_upload_id(command.abort_upload().upload_id());
      e.mutable_upload_aborted()->set_reason(command.abort_upload().reason());
      break;
    case proto::Command::kCreateTenant:
      *e.mutable_tenant_created()->mutable_quotas() = command.create_tenant().quotas();
      break;
    case proto::Command::kSetQuotas:
      *e.mutable_tenant_quotas_changed()->mutable_quotas() = command.set_quotas().quotas();
      break;
    case proto::Command::kDeleteTenant:
      e.mutable_tenant_deleted();
      break;
    case proto::Command::kCreateUser:
      e.mutable_user_created()->set_user(command.create_user().user());
      e.mutable_user_created()->set_role(command.create_user().role());
      break;
    case proto::Command::kDeleteUser:
      e.mutable_user_deleted()->set_user(command.delete_user().user());
      break;
    case proto::Command::kCreateAccessKey:
      e.mutable_access_key_created()->Swap(command.mutable_create_access_key()->mutable_key());
      break;
    case proto::Command::kChangeAccessKey:
      e.mutable_access_key_changed()->Swap(command.mutable_change_access_key()->mutable_change());
      break;
    case proto::Command::kDeleteAccessKey:
      e.mutable_access_key_deleted()->set_access_key(command.delete_access_key().access_key());
      break;
    case proto::Command::kSetGrant:
      e.mutable_grant_changed()->Swap(command.mutable_set_grant()->mutable_grant());
      break;
    case proto::Command::kSetContainerAcl:
      e.mutable_container_acl_changed()->set_acl(command.set_container_acl().acl());
      break;
    case proto::Command::kRecordDenial:
      e.mutable_access_denied()->Swap(command.mutable_record_denial()->mutable_denial());
      break;
    case proto::Command::kRecordListing:
      e.mutable_container_listed()->Swap(command.mutable_record_listing()->mutable_listing());
      break;
    case proto::Command::kReencryptSecrets: {
      auto* r = e.mutable_secrets_reencrypted();
      r->set_key_id(command.reencrypt_secrets().key_id());
      r->mutable_secrets()->Swap(command.mutable_reencrypt_secrets()->mutable_secrets());
      break;
    }
    case proto::Command::kMigrateArtifact:
      e.mutable_artifact_migrated()->Swap(command.mutable_migrate_artifact()->mutable_migration());
      break;
    case proto::Command::kCompleteRestore:
      e.mutable_artifact_restored()->Swap(command.mutable_complete_restore()->mutable_restored());
      break;
    case proto::Command::kExpireRestore:
      e.mutable_restore_expired()->set_expired_before_unix_nanos(
          command.expire_restore().expired_before_unix_nanos());
      break;
    case proto::Command::kRequestRestore:  // built by ContainerActor::handle
    case proto::Command::kCompleteUpload:  // built by ContainerActor::complete_upload
    case proto::Command::OP_NOT_SET:
      break;
  }
  return e;
}

ContainerActor::ContainerActor(asio::any_io_executor executor, events::EventLog& log,
                               const events::ViewReader& views, std::string tenant,
                               std::string container)
    : Actor(std::move(executor), "container/" + tenant + "/" + container),
      log_(log),
      views_(views),
      tenant_(std::move(tenant)),
      container_(std::move(container)) {}

Result<void> ContainerActor::load() {
  auto record = views_.container(tenant_, container_);
  if (!record && !is(record.error(), Errc::kNoSuchContainer)) {
    return record.error();
  }
  exists_ = record.has_value();
  loaded_ = true;
  return {};
}

asio::awaitable<Result<proto::CommandReply>> ContainerActor::handle(proto::Command command) {
  if (!loaded_) {
    if (auto r = load(); !r) {
      co_return r.error();
    }
  }
  const std::string path = command.path();
  switch (command.op_case()) {
    case proto::Command::kCreateContainer:
      if (!events::is_valid_container_name(container_)) {
        co_return Errc::kInvalidContainerName;
      }
      if (exists_) {
        co_return Errc::kContainerExists;
      }
      exists_ = true;
      co_return co_await commit(event_for(std::move(command)));

    case proto::Command::kDeleteContainer: {
      if (!exists_) {
        co_return Errc::kNoSuchContainer;
      }
      // A commit still in flight may add an artifact: the container is not known empty.
      if (in_flight_ > 0) {
        co_return Errc::kContainerNotEmpty;
      }
      auto has = views_.has_artifacts(tenant_, container_);
      if (!has) {
        co_return has.error();
      }
      if (*has) {
        co_return Errc::kContainerNotEmpty;
      }
      exists_ = false;
      co_return co_await commit(event_for(std::move(command)));
    }

    case proto::Command::kSetContainerAcl:
      if (!exists_) {
        co_return Errc::kNoSuchContainer;
      }
      co_return co_await commit(event_for(std::move(command)));

    case proto::Command::kRecordRead:
    case proto::Command::kRecordListing:
    case proto::Command::OP_NOT_SET:
      co_return Errc::kInvalidArgument;

    default:
      break;
  }

  // Everything else acts on one artifact of an existing container.
  if (!events::is_valid_path(path)) {
    co_return Errc::kInvalidPath;
  }
  if (!exists_) {
    co_return Errc::kNoSuchContainer;
  }
  switch (command.op_case()) {
    case proto::Command::kCommitArtifact: {
      if (auto c = check_condition(path, command.commit_artifact().condition()); !c) {
        co_return c.error();
      }
      co_return co_await commit_write(path, event_for(std::move(command)));
    }
    case proto::Command::kDeleteArtifact:
      co_return co_await commit_write(path, event_for(std::move(command)));

    case proto::Command::kTagArtifact: {
      if (auto a = views_.artifact(tenant_, container_, path); !a) {
        co_return a.error();
      }
      co_return co_await commit(event_for(std::move(command)));
    }

    case proto::Command::kCreateUpload:
      co_return co_await commit(event_for(std::move(command)));

    // Tiering: the projection checks that the artifact is still what the move or the copy was
    // made from, in log order, so these need no lock against writes in flight.
    case proto::Command::kMigrateArtifact:
    case proto::Command::kCompleteRestore:
      co_return co_await commit(event_for(std::move(command)));

    case proto::Command::kExpireRestore: {
      auto a = views_.artifact(tenant_, container_, path);
      if (!a) {
        co_return a.error();
      }
      const int64_t before = command.expire_restore().expired_before_unix_nanos();
      if (!a->has_restore() ||
          (before > 0 && (a->restore().ongoing() || a->restore().expires_unix_nanos() >= before))) {
        proto::CommandReply nothing;
        nothing.set_no_op(true);
        co_return nothing;
      }
      co_return co_await commit(event_for(std::move(command)));
    }

    case proto::Command::kRequestRestore: {
      auto a = views_.artifact(tenant_, container_, path);
      if (!a) {
        co_return a.error();
      }
      const auto& restore_tiers = command.request_restore().restore_tiers();
      if (std::find(restore_tiers.begin(), restore_tiers.end(), a->tier()) == restore_tiers.end()) {
        co_return Errc::kInvalidObjectState;
      }
      if (a->has_restore() && a->restore().ongoing()) {
        co_return Errc::kRestoreInProgress;
      }
      const bool extended = a->has_restore();
      const uint32_t days = command.request_restore().days();
      proto::Event e = event_for(std::move(command));
      e.mutable_restore_requested()->set_days(days);
      e.mutable_restore_requested()->set_tier(a->tier());
      auto reply = co_await commit(std::move(e));
      if (reply) {
        reply->set_restore_extended(extended);
      }
      co_return reply;
    }

    case proto::Command::kUploadPart:
    case proto::Command::kAbortUpload: {
      const std::string& id = command.has_upload_part() ? command.upload_part().part().upload_id()
                                                        : command.abort_upload().upload_id();
      if (auto u = views_.upload(tenant_, container_, path, id); !u) {
        co_return u.error();
      }
      co_return co_await commit(event_for(std::move(command)));
    }

    case proto::Command::kCompleteUpload: {
      if (auto c = check_condition(path, command.complete_upload().condition()); !c) {
        co_return c.error();
      }
      proto::CommandReply built;
      auto event = complete_upload(command, built);
      if (!event) {
        co_return event.error();
      }
      auto reply = co_await commit_write(path, std::move(*event));
      if (reply) {
        reply->set_etag(built.etag());
        *reply->mutable_checksums() = built.checksums();
      }
      co_return reply;
    }

    default:
      co_return Errc::kInvalidArgument;
  }
}

Result<void> ContainerActor::check_condition(const std::string& path,
                                             const proto::WriteCondition& c) const {
  if (!c.if_none_match_any() && c.if_match().empty()) {
    return {};
  }
  if (writing_.contains(path)) {
    return Errc::kConflict;
  }
  auto current = views_.artifact(tenant_, container_, path);
  if (!current && !is(current.error(), Errc::kNoSuchArtifact)) {
    return current.error();
  }
  if (c.if_none_match_any() && current) {
    return Errc::kPreconditionFailed;
  }
  if (!c.if_match().empty()) {
    if (!current) {
      return Errc::kNoSuchArtifact;
    }
    if (current->etag() != c.if_match()) {
      return Errc::kPreconditionFailed;
    }
  }
  return {};
}

namespace {

// The checksum of a completed multipart object, from its parts' checksums: COMPOSITE (the
// checksum of the parts' raw checksums, "-N") or FULL_OBJECT (CRCs combined over the whole
// object). None when the upload declared no algorithm or a part lacks its checksum.
std::optional<proto::Checksum> upload_checksum(const proto::UploadRecord& upload,
                                               const proto::ArtifactCommitted& artifact) {
  const auto algorithm = parse_checksum_algorithm(upload.checksum_algorithm());
  if (!algorithm) {
    return std::nullopt;
  }
  std::vector<std::string> raws;
  std::vector<std::pair<std::string, uint64_t>> crcs;
  for (const auto& segment : artifact.segments()) {
    const auto found = std::find_if(
        segment.checksums().begin(), segment.checksums().end(),
        [&](const proto::Checksum& c) { return c.algorithm() == upload.checksum_algorithm(); });
    if (found == segment.checksums().end()) {
      return std::nullopt;
    }
    auto raw = base64_decode(found->value());
    if (!raw) {
      return std::nullopt;
    }
    crcs.emplace_back(*raw, segment.size());
    raws.push_back(std::move(*raw));
  }
  proto::Checksum out;
  out.set_algorithm(upload.checksum_algorithm());
  out.set_type(upload.checksum_type());
  if (upload.checksum_type() == "FULL_OBJECT") {
    const auto combined = combine_crc(*algorithm, crcs);
    if (!combined) {
      return std::nullopt;
    }
    out.set_value(base64_encode(*combined));
  } else {
    out.set_value(composite_checksum(*algorithm, raws));
  }
  return out;
}

}  // namespace

Result<proto::Event> ContainerActor::complete_upload(proto::Command& command,
                                                     proto::CommandReply& reply) const {
  const proto::CompleteUpload& request = command.complete_upload();
  proto::ListParts list;
  list.set_upload_id(request.upload_id());
  list.set_max_parts(100000);
  auto stored = views_.list_parts(tenant_, container_, command.path(), list);
  if (!stored) {
    return stored.error();
  }
  if (request.parts_size() == 0) {
    return Errc::kInvalidPart;
  }
  std::unordered_map<uint32_t, const proto::PartRecord*> by_number;
  for (const auto& p : stored->parts()) {
    by_number.emplace(p.part_number(), &p);
  }
  proto::Event event;
  proto::ArtifactCommitted& artifact = *event.mutable_artifact_committed();
  artifact = stored->upload().artifact();
  artifact.set_completed_upload_id(request.upload_id());
  Digest md5s(DigestAlgorithm::kMd5);
  uint32_t previous = 0;
  for (int i = 0; i < request.parts_size(); ++i) {
    const proto::CompletedPart& wanted = request.parts(i);
    if (wanted.part_number() <= previous) {
      return Errc::kInvalidPartOrder;
    }
    previous = wanted.part_number();
    const auto found = by_number.find(wanted.part_number());
    if (found == by_number.end() || found->second->part().etag() != wanted.etag()) {
      return Errc::kInvalidPart;
    }
    const proto::Segment& part = found->second->part();
    if (i + 1 < request.parts_size() && part.size() < request.min_part_size()) {
      return Errc::kEntityTooSmall;
    }
    const auto raw = from_hex(part.etag());
    if (!raw) {
      return Errc::kInvalidPart;
    }
    md5s.update(*raw);
    // Checksums the client lists for a part must be the ones the part was stored with.
    for (const auto& claimed : wanted.checksums()) {
      const auto stored_checksum = std::find_if(
          part.checksums().begin(), part.checksums().end(),
          [&](const proto::Checksum& c) { return c.algorithm() == claimed.algorithm(); });
      if (stored_checksum == part.checksums().end() ||
          stored_checksum->value() != claimed.value()) {
        return Errc::kInvalidPart;
      }
    }
    *artifact.add_segments() = part;
  }
  if (auto checksum = upload_checksum(stored->upload(), artifact); checksum) {
    *artifact.add_checksums() = std::move(*checksum);
  }
  // S3's multipart ETag: the MD5 of the parts' binary MD5s, then the number of parts.
  artifact.set_etag(to_hex(md5s.finish()) + "-" + std::to_string(request.parts_size()));
  reply.set_etag(artifact.etag());
  *reply.mutable_checksums() = artifact.checksums();

  proto::RequestContext& ctx = *command.mutable_context();
  event.set_tenant(std::move(*ctx.mutable_tenant()));
  event.set_container(container_);
  event.set_path(command.path());
  event.set_request_id(std::move(*ctx.mutable_request_id()));
  event.set_principal(std::move(*ctx.mutable_principal()));
  event.set_source_address(std::move(*ctx.mutable_source_address()));
  event.set_user_agent(std::move(*ctx.mutable_user_agent()));
  event.set_spoke_id(std::move(*ctx.mutable_spoke_id()));
  return event;
}

asio::awaitable<Result<proto::CommandReply>> ContainerActor::commit_write(std::string path,
                                                                          proto::Event event) {
  ++writing_[path];
  auto reply = co_await commit(std::move(event));
  if (auto it = writing_.find(path); it != writing_.end() && --it->second == 0) {
    writing_.erase(it);
  }
  co_return reply;
}

asio::awaitable<Result<proto::CommandReply>> ContainerActor::commit(proto::Event event) {
  ++in_flight_;
  auto appended = co_await log_.append(std::move(event));
  --in_flight_;
  if (!appended) {
    // The event is not in the log; forget what the handler assumed it would do.
    loaded_ = false;
    co_return appended.error();
  }
  proto::CommandReply reply;
  reply.set_sequence(appended->sequence);
  reply.set_time_unix_nanos(appended->time_unix_nanos);
  reply.set_no_op(appended->no_op);
  for (auto& blob : appended->released) {
    *reply.add_released() = std::move(blob);
  }
  co_return reply;
}

}  // namespace vaultaire::actors
