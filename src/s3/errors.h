#pragma once

// S3 errors: the one table from our error codes and S3 conditions to S3 replies (HTTP status,
// <Code>, default message). Only this layer speaks S3; everything below returns Errc.

#include <string>
#include <string_view>

#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>

namespace vaultaire::s3 {

enum class S3Code {
  kAccessDenied,
  kAuthorizationHeaderMalformed,
  kAuthorizationQueryParametersError,
  kBadDigest,
  kBadRequest,
  kBucketAlreadyOwnedByYou,
  kBucketNotEmpty,
  kConditionalRequestConflict,
  kEntityTooLarge,
  kEntityTooSmall,
  kIncompleteBody,
  kInternalError,
  kInvalidAccessKeyId,
  kInvalidArgument,
  kInvalidBucketName,
  kInvalidChunkSizeError,
  kInvalidDigest,
  kInvalidObjectState,
  kInvalidPart,
  kInvalidPartNumber,
  kInvalidPartOrder,
  kInvalidRange,
  kInvalidRequest,
  kInvalidStorageClass,
  kInvalidTag,
  kInvalidURI,
  kKeyTooLongError,
  kMalformedTrailerError,
  kMalformedXML,
  kMetadataTooLarge,
  kMethodNotAllowed,
  kMissingContentLength,
  kMissingSecurityHeader,
  kNoSuchBucket,
  kNoSuchKey,
  kNoSuchUpload,
  kNotImplemented,
  kNotModified,
  kPreconditionFailed,
  kQuotaExceeded,
  kRequestTimeTooSkewed,
  kRestoreAlreadyInProgress,
  kServiceUnavailable,
  kSignatureDoesNotMatch,
  kSlowDown,
  kXAmzContentSHA256Mismatch,
};

struct S3ErrorInfo {
  std::string_view code;
  boost::beast::http::status status;
  std::string_view message;
};

const S3ErrorInfo& info(S3Code code);

// An error to answer with: the code, and a message when the default one is not specific enough.
struct S3Error {
  S3Code code;
  std::string message;  // empty: the table's default

  S3Error() : code(S3Code::kInternalError) {}
  S3Error(S3Code c) : code(c) {}  // NOLINT: implicit on purpose, `return S3Code::kNoSuchKey;`
  S3Error(S3Code c, std::string m) : code(c), message(std::move(m)) {}
  std::string_view text() const { return message.empty() ? info(code).message : message; }
};

// Our error codes as S3 errors: kNoSuchContainer is NoSuchBucket, and so on. `on_key` chooses
// NoSuchKey for kNoSuchArtifact. Unknown codes are InternalError (and should be logged).
S3Code from_error(const boost::system::error_code& ec);

}  // namespace vaultaire::s3
