#include "sip/response_builder.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "sip/internal/hash.h"
#include "sip/internal/lex.h"

namespace sipring::sip {
namespace {

// In-place fallback buffer; see the header comment. 8 KiB keeps the shard's stack use modest
// while covering every response to a request under the default header limits we ship.
constexpr size_t kInPlaceScratch = 8192;

// Appends pieces to an output area. In measuring mode it writes nothing and records whether
// writing in this order would overwrite a piece's source before that piece is copied.
class Emitter {
 public:
  Emitter(char* out, size_t capacity, bool write) : out_(out), capacity_(capacity), write_(write) {}

  void Add(std::string_view piece) {
    const uintptr_t s = reinterpret_cast<uintptr_t>(piece.data());
    const uintptr_t written_begin = reinterpret_cast<uintptr_t>(out_);
    const uintptr_t written_end = written_begin + size_;
    if (!piece.empty() && s < written_end && s + piece.size() > written_begin) safe_in_place_ = false;
    if (size_ + piece.size() > capacity_) {
      overflow_ = true;
    } else if (write_ && !piece.empty()) {
      std::memmove(out_ + size_, piece.data(), piece.size());
    }
    size_ += piece.size();
  }

  size_t size() const { return size_; }
  bool overflow() const { return overflow_; }
  bool safe_in_place() const { return safe_in_place_; }

 private:
  char* out_;
  size_t capacity_;
  bool write_;
  size_t size_ = 0;
  bool overflow_ = false;
  bool safe_in_place_ = true;
};

// Everything computed once before emitting (so emitting twice gives the same bytes).
struct Parts {
  char status[3];
  std::string_view reason;
  bool add_tag = false;
  std::string_view tag;
  char derived_tag[kMaxToTagPrefix + 16];
  char retry_after[20];
  size_t retry_after_size = 0;
  char cseq_number[20];
  size_t cseq_number_size = 0;
  char content_length[20];
  size_t content_length_size = 0;
};

// Decimal digits of `v` into out[0..20); returns how many.
size_t FormatDecimal(uint64_t v, char (&out)[20]) {
  return static_cast<size_t>(std::to_chars(out, out + sizeof(out), v).ptr - out);
}

void Emit(const Message& req, const ResponseSpec& spec, const Parts& parts, Emitter* e) {
  e->Add("SIP/2.0 ");
  e->Add(std::string_view(parts.status, 3));
  e->Add(" ");
  e->Add(parts.reason);
  e->Add("\r\n");
  for (const Header* h = req.Find(HeaderId::kVia); h != nullptr; h = req.NextSame(h)) {
    e->Add("Via: ");
    e->Add(h->value);
    e->Add("\r\n");
  }
  if (spec.copy_record_route) {
    for (const Header* h = req.Find(HeaderId::kRecordRoute); h != nullptr; h = req.NextSame(h)) {
      e->Add("Record-Route: ");
      e->Add(h->value);
      e->Add("\r\n");
    }
  }
  if (const Header* h = req.Find(HeaderId::kFrom)) {
    e->Add("From: ");
    e->Add(h->value);
    e->Add("\r\n");
  }
  if (const Header* h = req.Find(HeaderId::kTo)) {
    e->Add("To: ");
    e->Add(h->value);
    if (parts.add_tag) {
      e->Add(";tag=");
      e->Add(parts.tag);
    }
    e->Add("\r\n");
  }
  if (const Header* h = req.Find(HeaderId::kCallId)) {
    e->Add("Call-ID: ");
    e->Add(h->value);
    e->Add("\r\n");
  }
  if (parts.cseq_number_size > 0) {
    e->Add("CSeq: ");
    e->Add(std::string_view(parts.cseq_number, parts.cseq_number_size));
    e->Add(" ");
    e->Add(spec.cseq_method);
    e->Add("\r\n");
  } else if (const Header* h = req.Find(HeaderId::kCSeq)) {
    e->Add("CSeq: ");
    e->Add(h->value);
    e->Add("\r\n");
  }
  if (!spec.contact.empty()) {
    e->Add("Contact: ");
    e->Add(spec.contact);
    e->Add("\r\n");
  }
  if (parts.retry_after_size > 0) {
    e->Add("Retry-After: ");
    e->Add(std::string_view(parts.retry_after, parts.retry_after_size));
    e->Add("\r\n");
  }
  if (!spec.unsupported.empty()) {
    e->Add("Unsupported: ");
    for (size_t i = 0; i < spec.unsupported.size(); ++i) {
      if (i > 0) e->Add(", ");
      e->Add(spec.unsupported[i]);
    }
    e->Add("\r\n");
  }
  if (!spec.body.empty() && !spec.content_type.empty()) {
    e->Add("Content-Type: ");
    e->Add(spec.content_type);
    e->Add("\r\n");
  }
  e->Add("Content-Length: ");
  e->Add(std::string_view(parts.content_length, parts.content_length_size));
  e->Add("\r\n\r\n");
  e->Add(spec.body);
}

}  // namespace

std::string_view DefaultReason(int status) {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 480: return "Temporarily Unavailable";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    default: return "Unknown";
  }
}

ResponseSpec ResponseSpecFor(const Verdict& verdict) {
  ResponseSpec spec;
  spec.status = verdict.status;
  spec.reason = verdict.reason;
  spec.unsupported = std::span<const std::string_view>(verdict.unsupported.data(),
                                                       verdict.unsupported_count);
  return spec;
}

BuildResult BuildResponse(const Message& req, const ResponseSpec& spec, std::span<char> out) {
  BuildResult result;
  if (spec.status < 100 || spec.status > 699) {
    result.error = BuildError::kBadStatus;
    return result;
  }
  if (req.Find(HeaderId::kVia) == nullptr) {
    result.error = BuildError::kNoVia;
    return result;
  }
  Parts parts;
  parts.status[0] = static_cast<char>('0' + spec.status / 100);
  parts.status[1] = static_cast<char>('0' + spec.status / 10 % 10);
  parts.status[2] = static_cast<char>('0' + spec.status % 10);
  parts.reason = spec.reason.empty() ? DefaultReason(spec.status) : spec.reason;
  if (spec.status != 100) {
    if (const Header* to = req.Find(HeaderId::kTo)) {
      // Re-read the To value rather than trusting Message::to: after a failed parse it may be
      // unset. An unparseable To gets no tag (we cannot tell whether it has one).
      NameAddr na;
      if (ParseNameAddr(to->value, &na) && !na.has_tag) {
        parts.add_tag = true;
        if (!spec.to_tag.empty()) {
          parts.tag = spec.to_tag;
        } else {
          uint64_t h = sip_internal::Fnv1a(req.call_id);
          h = sip_internal::Fnv1aField(req.from.tag, h);
          h = sip_internal::Fnv1aField(req.via_count > 0 ? req.vias[0].branch : std::string_view(), h);
          const std::string_view prefix = spec.to_tag_prefix.substr(0, kMaxToTagPrefix);
          if (!prefix.empty()) std::memcpy(parts.derived_tag, prefix.data(), prefix.size());
          sip_internal::ToHex16(h, parts.derived_tag + prefix.size());
          parts.tag = std::string_view(parts.derived_tag, prefix.size() + 16);
        }
      }
    }
  }
  if (spec.retry_after >= 0) {
    parts.retry_after_size = FormatDecimal(static_cast<unsigned>(spec.retry_after), parts.retry_after);
  }
  // Without a parsed CSeq there is no number to pair with the new method: echo the raw CSeq.
  if (!spec.cseq_method.empty() && req.Find(HeaderId::kCSeq) != nullptr && !req.cseq.method.empty()) {
    parts.cseq_number_size = FormatDecimal(req.cseq.number, parts.cseq_number);
  }
  parts.content_length_size = FormatDecimal(spec.body.size(), parts.content_length);

  Emitter measure(out.data(), out.size(), /*write=*/false);
  Emit(req, spec, parts, &measure);
  if (measure.overflow()) {
    result.error = BuildError::kNoSpace;
    return result;
  }
  if (measure.safe_in_place()) {
    Emitter writer(out.data(), out.size(), /*write=*/true);
    Emit(req, spec, parts, &writer);
    result.size = writer.size();
    return result;
  }
  char scratch[kInPlaceScratch];
  if (measure.size() > sizeof(scratch)) {
    result.error = BuildError::kNoSpace;
    return result;
  }
  Emitter writer(scratch, sizeof(scratch), /*write=*/true);
  Emit(req, spec, parts, &writer);
  std::memcpy(out.data(), scratch, writer.size());
  result.size = writer.size();
  return result;
}

}  // namespace sipring::sip
