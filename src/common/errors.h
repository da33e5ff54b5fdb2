#pragma once

// Vaultaire's error codes and the Result type every fallible call returns.
//
// Result<T> is boost::system::result<T> over boost::system::error_code, the same error type Asio
// and Beast use. Our codes form one category; values are explicit and never renumbered, since
// they cross process boundaries (hub <-> spoke) and land in logs.

#include <string_view>
#include <system_error>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace vaultaire {

enum class Errc : int {
  kInternal = 1,      // a bug or an unexpected library failure; logged where it happened
  kIo = 2,            // the disk or the OS refused an operation
  kCorruption = 3,    // bytes from disk or network failed a check
  kUnknownEvent = 4,  // a log entry this build does not understand (a newer log)
  kShuttingDown = 5,  // the component is stopping; retry elsewhere
  kInvalidArgument = 6,
  kTimeout = 7,
  kActorRestarted = 8,  // the handler threw; the actor reloaded its state

  kNoSuchContainer = 20,
  kContainerExists = 21,  // already exists in this tenant
  kContainerNotEmpty = 22,
  kInvalidContainerName = 23,
  kNoSuchArtifact = 24,
  kInvalidPath = 25,
  kTooManyContainers = 26,
  kPreconditionFailed = 27,    // a conditional write's condition does not hold
  kConflict = 28,              // a concurrent write to the same artifact is in flight
  kNoSuchUpload = 29,
  kInvalidPart = 30,           // a listed part is missing or its ETag differs
  kInvalidPartOrder = 31,
  kEntityTooSmall = 32,        // a part other than the last is below the minimum size
  kQuotaExceeded = 33,         // a tenant quota would be exceeded
  kAlreadyExists = 34,         // a tenant, user or key with that name exists
  kNotFound = 35,              // no such tenant, user or key
  kNotEmpty = 36,              // a tenant with buckets or users, a user with keys
  kAccessDenied = 37,          // the principal may not do this
  kInvalidName = 38,           // a tenant or user name that is not valid
  kInvalidObjectState = 39,    // the artifact's tier does not allow this (a read needs a restore)

  kNoSuchBlob = 40,
  kInvalidRange = 41,
  kDriverUnavailable = 42,
  kChecksumMismatch = 43,       // the body does not match the digest the client declared
  kContentSha256Mismatch = 44,  // the body does not match x-amz-content-sha256
  kIncompleteBody = 45,         // fewer bytes arrived than Content-Length announced
  kEntityTooLarge = 46,
  kRestoreInProgress = 47,      // a restore of the artifact is already under way
};

const boost::system::error_category& vaultaire_category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), vaultaire_category()};
}

template <typename T>
using Result = boost::system::result<T>;

// True when `ec` is our code `e` (and not, say, an errno with the same value).
inline bool is(const boost::system::error_code& ec, Errc e) noexcept {
  return ec.category() == vaultaire_category() && ec.value() == static_cast<int>(e);
}

// A stable lowercase name for logs and metrics ("no_such_container").
std::string_view errc_name(Errc e) noexcept;

}  // namespace vaultaire

namespace boost::system {
template <>
struct is_error_code_enum<vaultaire::Errc> : std::true_type {};
}  // namespace boost::system
