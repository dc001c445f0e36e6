#include "tools/sipload/request_writer.h"

#include <charconv>
#include <cstring>

namespace sipring::sipload {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Appends to a fixed buffer; remembers an overflow instead of checking at every call site.
class Writer {
 public:
  explicit Writer(std::span<char> out) : p_(out.data()), end_(out.data() + out.size()) {}

  Writer& operator<<(std::string_view s) {
    if (s.empty()) return *this;  // an empty view may have no data pointer at all (memcpy: UB)
    if (size_t(end_ - p_) < s.size()) {
      overflow_ = true;
      return *this;
    }
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
    return *this;
  }
  Writer& operator<<(uint64_t v) {
    char digits[20];
    return *this << std::string_view(digits, std::to_chars(digits, digits + 20, v).ptr - digits);
  }
  void Hex(uint64_t v, int width) {
    char digits[16];
    for (int i = width - 1; i >= 0; --i, v >>= 4) digits[i] = kHexDigits[v & 15];
    *this << std::string_view(digits, width);
  }
  // The call id: every identifier of a call starts with it.
  void Id(const CallKey& k) {
    Hex(k.run, 8);
    Hex(k.shard, 2);
    Hex(k.slot, 8);
    Hex(k.generation, 4);
  }
  char* position() const { return p_; }
  size_t Finish(const char* begin) const { return overflow_ ? 0 : size_t(p_ - begin); }

 private:
  char* p_;
  char* end_;
  bool overflow_ = false;
};

void RequestLine(Writer& w, std::string_view method, const RequestContext& c, bool user) {
  w << method << " sip:";
  if (user) w << c.service << "@";
  w << c.target_host << ":" << uint64_t{c.target_port} << " SIP/2.0\r\n";
}

void Via(Writer& w, const RequestContext& c, const CallKey& k, TxnKind kind) {
  w << "Via: SIP/2.0/UDP " << c.local_host << ":" << uint64_t{c.local_port} << ";branch=z9hG4bK";
  w.Id(k);
  const char suffix[2] = {'.', static_cast<char>(kind)};
  w << std::string_view(suffix, 2) << ";rport\r\n";
}

// Max-Forwards, From, To (without tag unless given), Call-ID and CSeq.
void DialogHeaders(Writer& w, const RequestContext& c, const CallKey& k, std::string_view to_tag,
                   uint64_t cseq, std::string_view method) {
  w << "Max-Forwards: 70\r\nFrom: <sip:sipload@" << c.local_host << ":" << uint64_t{c.local_port}
    << ">;tag=";
  w.Id(k);
  w << "\r\nTo: <sip:" << c.service << "@" << c.target_host << ":" << uint64_t{c.target_port} << ">";
  if (!to_tag.empty()) w << ";tag=" << to_tag;
  w << "\r\nCall-ID: ";
  w.Id(k);
  w << "@sipload\r\nCSeq: " << cseq << " " << method << "\r\n";
}

void Contact(Writer& w, const RequestContext& c) {
  w << "Contact: <sip:sipload@" << c.local_host << ":" << uint64_t{c.local_port} << ">\r\n";
}

size_t InDialog(const RequestContext& c, const CallKey& k, const DialogView& d, std::string_view method,
                uint64_t cseq, TxnKind kind, std::span<char> out) {
  Writer w(out);
  w << method << " " << d.remote_target << " SIP/2.0\r\n";
  Via(w, c, k, kind);
  if (!d.route.empty()) w << "Route: " << d.route << "\r\n";
  DialogHeaders(w, c, k, d.to_tag, cseq, method);
  w << "Content-Length: 0\r\n\r\n";
  return w.Finish(out.data());
}

bool ReadHex(std::string_view s, uint64_t* out) {
  uint64_t v = 0;
  for (char ch : s) {
    int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else {
      return false;
    }
    v = v << 4 | uint64_t(d);
  }
  *out = v;
  return true;
}

// A call's first request: request line, Via, dialog headers, Contact, then `tail` (the
// remaining headers, the empty line and the body).
size_t FirstRequest(const RequestContext& c, const CallKey& k, std::string_view method, bool user,
                    TxnKind kind, std::string_view tail_headers, std::string_view body,
                    std::span<char> out) {
  Writer w(out);
  RequestLine(w, method, c, user);
  Via(w, c, k, kind);
  DialogHeaders(w, c, k, {}, 1, method);
  Contact(w, c);
  w << tail_headers << "Content-Length: " << uint64_t{body.size()} << "\r\n\r\n" << body;
  return w.Finish(out.data());
}

}  // namespace

size_t WriteInvite(const RequestContext& c, const CallKey& k, std::span<char> out) {
  // The SDP offer sipp's built-in UAC sends, give or take the names: message sizes comparable
  // with sipp's keep the two tools' figures comparable.
  char sdp[256];
  Writer b(sdp);
  const std::string_view ip = c.ipv6 ? "IP6 " : "IP4 ";
  b << "v=0\r\no=sipload 1 1 IN " << ip << c.local_host << "\r\ns=-\r\nc=IN " << ip << c.local_host
    << "\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  const size_t body = b.Finish(sdp);
  if (body == 0) return 0;
  return FirstRequest(c, k, "INVITE", true, TxnKind::kInvite, "Content-Type: application/sdp\r\n",
                      std::string_view(sdp, body), out);
}

size_t WriteOptions(const RequestContext& c, const CallKey& k, std::span<char> out) {
  // With a user part: a proxy such as sipring answers an OPTIONS to itself locally, and
  // balances one to a user, which is the load we want.
  return FirstRequest(c, k, "OPTIONS", true, TxnKind::kOptions, "Accept: application/sdp\r\n", {}, out);
}

size_t WriteRegister(const RequestContext& c, const CallKey& k, std::span<char> out) {
  return FirstRequest(c, k, "REGISTER", false, TxnKind::kRegister, "Expires: 3600\r\n", {}, out);
}

size_t WriteAck2xx(const RequestContext& c, const CallKey& k, const DialogView& d,
                   std::span<char> out) {
  return InDialog(c, k, d, "ACK", 1, TxnKind::kAck, out);
}

size_t WriteBye(const RequestContext& c, const CallKey& k, const DialogView& d, std::span<char> out) {
  return InDialog(c, k, d, "BYE", 2, TxnKind::kBye, out);
}

size_t WriteAckForResponse(const RequestContext& c, const sip::Message& r, std::span<char> out) {
  const sip::Header* from = r.Find(sip::HeaderId::kFrom);
  const sip::Header* to = r.Find(sip::HeaderId::kTo);
  if (r.via_count == 0 || from == nullptr || to == nullptr || r.call_id.empty() ||
      r.cseq.method.empty()) {
    return 0;
  }
  Writer w(out);
  RequestLine(w, "ACK", c, true);
  // Our own Via is the response's top one once the proxies took theirs off; the ACK for a
  // non-2xx is part of the INVITE transaction and carries exactly that branch.
  w << "Via: " << r.vias[0].value << "\r\nMax-Forwards: 70\r\nFrom: " << from->value
    << "\r\nTo: " << to->value << "\r\nCall-ID: " << r.call_id << "\r\nCSeq: "
    << uint64_t{r.cseq.number} << " ACK\r\nContent-Length: 0\r\n\r\n";
  return w.Finish(out.data());
}

bool DecodeCallId(std::string_view call_id, uint32_t run, CallKey* key) {
  if (call_id.size() < kCallIdHex) return false;
  uint64_t r, shard, slot, gen;
  if (!ReadHex(call_id.substr(0, 8), &r) || r != run || !ReadHex(call_id.substr(8, 2), &shard) ||
      !ReadHex(call_id.substr(10, 8), &slot) || !ReadHex(call_id.substr(18, 4), &gen)) {
    return false;
  }
  key->run = run;
  key->shard = static_cast<uint8_t>(shard);
  key->slot = static_cast<uint32_t>(slot);
  key->generation = static_cast<uint16_t>(gen);
  return true;
}

}  // namespace sipring::sipload
