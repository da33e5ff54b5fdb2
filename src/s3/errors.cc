#include "s3/errors.h"

#include <array>

#include "common/errors.h"

namespace vaultaire::s3 {
namespace {

using boost::beast::http::status;

constexpr std::array<S3ErrorInfo, 46> kTable = {{
    {"AccessDenied", status::forbidden, "Access Denied"},
    {"AuthorizationHeaderMalformed", status::bad_request, "The authorization header is malformed."},
    {"AuthorizationQueryParametersError", status::bad_request,
     "Error parsing the X-Amz-Credential parameter."},
    {"BadDigest", status::bad_request,
     "The Content-MD5 you specified did not match what we received."},
    {"BadRequest", status::bad_request, "Bad Request"},
    {"BucketAlreadyOwnedByYou", status::conflict,
     "Your previous request to create the named bucket succeeded and you already own it."},
    {"BucketNotEmpty", status::conflict, "The bucket you tried to delete is not empty"},
    {"ConditionalRequestConflict", status::conflict,
     "A conflicting operation occurred. If using PutObject you can retry the request."},
    {"EntityTooLarge", status::bad_request,
     "Your proposed upload exceeds the maximum allowed object size."},
    {"EntityTooSmall", status::bad_request,
     "Your proposed upload is smaller than the minimum allowed object size."},
    {"IncompleteBody", status::bad_request,
     "You did not provide the number of bytes specified by the Content-Length HTTP header"},
    {"InternalError", status::internal_server_error,
     "We encountered an internal error. Please try again."},
    {"InvalidAccessKeyId", status::forbidden,
     "The AWS Access Key Id you provided does not exist in our records."},
    {"InvalidArgument", status::bad_request, "Invalid Argument"},
    {"InvalidBucketName", status::bad_request, "The specified bucket is not valid."},
    {"InvalidChunkSizeError", status::forbidden,
     "Only the last chunk is allowed to have a size less than 8192 bytes"},
    {"InvalidDigest", status::bad_request, "The Content-MD5 you specified is not valid."},
    {"InvalidObjectState", status::forbidden,
     "The operation is not valid for the object's storage class."},
    {"InvalidPart", status::bad_request,
     "One or more of the specified parts could not be found. The part may not have been uploaded, "
     "or the specified entity tag may not match the part's entity tag."},
    {"InvalidPartNumber", status::range_not_satisfiable,
     "The requested partnumber is not satisfiable"},
    {"InvalidPartOrder", status::bad_request,
     "The list of parts was not in ascending order. The parts list must be specified in order by "
     "part number."},
    {"InvalidRange", status::range_not_satisfiable, "The requested range is not satisfiable"},
    {"InvalidRequest", status::bad_request, "Invalid Request"},
    {"InvalidStorageClass", status::bad_request, "The storage class you specified is not valid."},
    {"InvalidTag", status::bad_request, "The tag provided was not a valid tag."},
    {"InvalidURI", status::bad_request, "Couldn't parse the specified URI."},
    {"KeyTooLongError", status::bad_request, "Your key is too long"},
    {"MalformedTrailerError", status::bad_request,
     "The request contained trailing data that was not well-formed or did not conform to our "
     "published schema."},
    {"MalformedXML", status::bad_request,
     "The XML you provided was not well-formed or did not validate against our published "
     "schema."},
    {"MetadataTooLarge", status::bad_request,
     "Your metadata headers exceed the maximum allowed metadata size."},
    {"MethodNotAllowed", status::method_not_allowed,
     "The specified method is not allowed against this resource."},
    {"MissingContentLength", status::length_required,
     "You must provide the Content-Length HTTP header."},
    {"MissingSecurityHeader", status::bad_request, "Your request is missing a required header."},
    {"NoSuchBucket", status::not_found, "The specified bucket does not exist"},
    {"NoSuchKey", status::not_found, "The specified key does not exist."},
    {"NoSuchUpload", status::not_found,
     "The specified multipart upload does not exist. The upload ID might not be valid, or the "
     "multipart upload might have been aborted or completed."},
    {"NotImplemented", status::not_implemented,
     "A header or query you provided implies functionality that is not implemented."},
    {"NotModified", status::not_modified, "Not Modified"},
    {"PreconditionFailed", status::precondition_failed,
     "At least one of the pre-conditions you specified did not hold"},
    {"QuotaExceeded", status::forbidden, "The request would exceed a quota."},
    {"RequestTimeTooSkewed", status::forbidden,
     "The difference between the request time and the current time is too large."},
    {"RestoreAlreadyInProgress", status::conflict, "Object restore is already in progress"},
    {"ServiceUnavailable", status::service_unavailable, "Please reduce your request rate."},
    {"SignatureDoesNotMatch", status::forbidden,
     "The request signature we calculated does not match the signature you provided. Check "
     "your key and signing method."},
    {"SlowDown", status::service_unavailable, "Please reduce your request rate."},
    {"XAmzContentSHA256Mismatch", status::bad_request,
     "The provided 'x-amz-content-sha256' header does not match what was computed."},
}};

static_assert(static_cast<size_t>(S3Code::kXAmzContentSHA256Mismatch) + 1 == kTable.size(),
              "one table row per S3Code, in order");

}  // namespace

const S3ErrorInfo& info(S3Code code) { return kTable[static_cast<size_t>(code)]; }

S3Code from_error(const boost::system::error_code& ec) {
  if (ec.category() != vaultaire_category()) {
    return S3Code::kInternalError;
  }
  switch (static_cast<Errc>(ec.value())) {
    case Errc::kNoSuchContainer:
      return S3Code::kNoSuchBucket;
    case Errc::kContainerExists:
      return S3Code::kBucketAlreadyOwnedByYou;
    case Errc::kContainerNotEmpty:
      return S3Code::kBucketNotEmpty;
    case Errc::kInvalidContainerName:
      return S3Code::kInvalidBucketName;
    case Errc::kNoSuchArtifact:
      return S3Code::kNoSuchKey;
    case Errc::kInvalidPath:
      // Keys over 1024 bytes are refused as KeyTooLongError before they get here; what is left
      // is a key that is not UTF-8 or holds NUL.
      return S3Code::kInvalidArgument;
    case Errc::kInvalidRange:
      return S3Code::kInvalidRange;
    case Errc::kChecksumMismatch:
      return S3Code::kBadDigest;
    case Errc::kContentSha256Mismatch:
      return S3Code::kXAmzContentSHA256Mismatch;
    case Errc::kIncompleteBody:
      return S3Code::kIncompleteBody;
    case Errc::kEntityTooLarge:
      return S3Code::kEntityTooLarge;
    case Errc::kInvalidArgument:
      return S3Code::kInvalidArgument;
    case Errc::kPreconditionFailed:
      return S3Code::kPreconditionFailed;
    case Errc::kConflict:
      return S3Code::kConditionalRequestConflict;
    case Errc::kNoSuchUpload:
      return S3Code::kNoSuchUpload;
    case Errc::kInvalidPart:
      return S3Code::kInvalidPart;
    case Errc::kInvalidPartOrder:
      return S3Code::kInvalidPartOrder;
    case Errc::kEntityTooSmall:
      return S3Code::kEntityTooSmall;
    case Errc::kQuotaExceeded:
      return S3Code::kQuotaExceeded;
    case Errc::kInvalidObjectState:
      return S3Code::kInvalidObjectState;
    case Errc::kRestoreInProgress:
      return S3Code::kRestoreAlreadyInProgress;
    case Errc::kAccessDenied:
      return S3Code::kAccessDenied;
    case Errc::kNoSuchBlob:
      return S3Code::kNoSuchKey;
    case Errc::kShuttingDown:
    case Errc::kDriverUnavailable:
    case Errc::kTimeout:
      return S3Code::kServiceUnavailable;
    default:
      return S3Code::kInternalError;
  }
}

}  // namespace vaultaire::s3
