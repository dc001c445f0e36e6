#include "sip/parse_error.h"

#include "engine/status.h"

namespace sipring::sip {

ErrorResponse ResponseFor(ParseError error) {
  switch (error) {
    case ParseError::kOk: return {0, ""};
    case ParseError::kIncomplete: return {400, "Bad Request (incomplete header section)"};
    case ParseError::kBadStartLine: return {400, "Bad Request (bad request line)"};
    case ParseError::kBadRequestUri: return {400, "Bad Request (bad Request-URI)"};
    case ParseError::kBadVersion: return {505, "Version Not Supported"};
    case ParseError::kBadStatusCode: return {400, "Bad Request (bad status code)"};
    case ParseError::kBadHeaderLine: return {400, "Bad Request (bad header line)"};
    case ParseError::kBadVia: return {400, "Bad Request (bad Via)"};
    case ParseError::kBadFrom: return {400, "Bad Request (bad From)"};
    case ParseError::kBadTo: return {400, "Bad Request (bad To)"};
    case ParseError::kBadCallId: return {400, "Bad Request (bad Call-ID)"};
    case ParseError::kBadCSeq: return {400, "Bad Request (bad CSeq)"};
    case ParseError::kBadMaxForwards: return {400, "Bad Request (bad Max-Forwards)"};
    case ParseError::kBadContentLength: return {400, "Bad Request (bad Content-Length)"};
    case ParseError::kBadExpires: return {400, "Bad Request (bad Expires)"};
    case ParseError::kBadRoute: return {400, "Bad Request (bad Route)"};
    case ParseError::kBadRecordRoute: return {400, "Bad Request (bad Record-Route)"};
    case ParseError::kBadContact: return {400, "Bad Request (bad Contact)"};
    case ParseError::kBodyTruncated: return {400, "Bad Request (body shorter than Content-Length)"};
    case ParseError::kMessageTooLarge: return {513, "Message Too Large"};
    case ParseError::kTooManyHeaders: return {513, "Message Too Large (too many headers)"};
    case ParseError::kHeaderTooLong: return {513, "Message Too Large (header too long)"};
    case ParseError::kUriTooLong: return {414, "Request-URI Too Long"};
    case ParseError::kBodyTooLarge: return {413, "Request Entity Too Large"};
    case ParseError::kTooManyValues: return {513, "Message Too Large (too many header values)"};
  }
  return {400, "Bad Request"};
}

std::string_view ParseErrorName(ParseError error) {
  switch (error) {
    case ParseError::kOk: return "ok";
    case ParseError::kIncomplete: return "incomplete header section";
    case ParseError::kBadStartLine: return "bad start line";
    case ParseError::kBadRequestUri: return "bad Request-URI";
    case ParseError::kBadVersion: return "unsupported SIP version";
    case ParseError::kBadStatusCode: return "bad status code";
    case ParseError::kBadHeaderLine: return "bad header line";
    case ParseError::kBadVia: return "bad Via";
    case ParseError::kBadFrom: return "bad From";
    case ParseError::kBadTo: return "bad To";
    case ParseError::kBadCallId: return "bad Call-ID";
    case ParseError::kBadCSeq: return "bad CSeq";
    case ParseError::kBadMaxForwards: return "bad Max-Forwards";
    case ParseError::kBadContentLength: return "bad Content-Length";
    case ParseError::kBadExpires: return "bad Expires";
    case ParseError::kBadRoute: return "bad Route";
    case ParseError::kBadRecordRoute: return "bad Record-Route";
    case ParseError::kBadContact: return "bad Contact";
    case ParseError::kBodyTruncated: return "body truncated";
    case ParseError::kMessageTooLarge: return "message too large";
    case ParseError::kTooManyHeaders: return "too many headers";
    case ParseError::kHeaderTooLong: return "header too long";
    case ParseError::kUriTooLong: return "Request-URI too long";
    case ParseError::kBodyTooLarge: return "body too large";
    case ParseError::kTooManyValues: return "too many header values";
  }
  return "unknown";
}

bool IsLimitError(ParseError error) {
  switch (error) {
    case ParseError::kMessageTooLarge:
    case ParseError::kTooManyHeaders:
    case ParseError::kHeaderTooLong:
    case ParseError::kUriTooLong:
    case ParseError::kBodyTooLarge:
    case ParseError::kTooManyValues:
      return true;
    default:
      return false;
  }
}

absl::Status ToStatus(ParseError error) {
  if (error == ParseError::kOk) return absl::OkStatus();
  const std::string message = absl::StrCat("sip: ", ToAbsl(ParseErrorName(error)));
  return IsLimitError(error) ? absl::ResourceExhaustedError(message)
                             : absl::InvalidArgumentError(message);
}

}  // namespace sipring::sip
