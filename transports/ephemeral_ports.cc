#include "transports/ephemeral_ports.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/status.h"
#include "transports/socket_options.h"

namespace sipring::transports {
namespace {

constexpr const char* kRangePath = "sys/net/ipv4/ip_local_port_range";
constexpr const char* kReservedPath = "sys/net/ipv4/ip_local_reserved_ports";

bool ParsePort(absl::string_view text, uint32_t* port) {
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(text), port) && *port <= 65535;
}

// "32768\t60999\n".
absl::Status ParseRange(std::string_view text, uint32_t* first, uint32_t* last) {
  const std::vector<absl::string_view> ends =
      absl::StrSplit(ToAbsl(text), absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
  if (ends.size() != 2 || !ParsePort(ends[0], first) || !ParsePort(ends[1], last) ||
      *first > *last) {
    return absl::InvalidArgumentError(absl::StrCat("expected two ports, low then high (got \"",
                                                   absl::StripAsciiWhitespace(ToAbsl(text)),
                                                   "\")"));
  }
  return absl::OkStatus();
}

// "5060,8000-8010\n", or "\n" when nothing is reserved.
absl::Status ParseReserved(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>* out) {
  const absl::string_view list = absl::StripAsciiWhitespace(ToAbsl(text));
  if (list.empty()) return absl::OkStatus();
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    const size_t dash = item.find('-');
    uint32_t lo = 0;
    uint32_t hi = 0;
    const bool ok = dash == absl::string_view::npos
                        ? ParsePort(item, &lo) && ParsePort(item, &hi)
                        : ParsePort(item.substr(0, dash), &lo) &&
                              ParsePort(item.substr(dash + 1), &hi) && lo <= hi;
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected ports and ranges like 5060,8000-8010 (got \"", item, "\")"));
    }
    out->emplace_back(lo, hi);
  }
  return absl::OkStatus();
}

absl::Status InFile(const std::string& proc_root, const char* path, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(proc_root, "/", path, ": ", status.message()));
}

}  // namespace

absl::StatusOr<EphemeralPorts> EphemeralPorts::Parse(std::string_view range_text,
                                                     std::string_view reserved_text) {
  EphemeralPorts p;
  SIPRING_RETURN_IF_ERROR(ParseRange(range_text, &p.first_, &p.last_));
  SIPRING_RETURN_IF_ERROR(ParseReserved(reserved_text, &p.reserved_));
  return p;
}

absl::StatusOr<EphemeralPorts> EphemeralPorts::Read(const std::string& proc_root) {
  EphemeralPorts p;
  SIPRING_ASSIGN_OR_RETURN(const std::string range, ReadProcFile(proc_root, kRangePath));
  SIPRING_RETURN_IF_ERROR(InFile(proc_root, kRangePath, ParseRange(range, &p.first_, &p.last_)));
  absl::StatusOr<std::string> reserved = ReadProcFile(proc_root, kReservedPath);
  if (reserved.ok()) {
    SIPRING_RETURN_IF_ERROR(
        InFile(proc_root, kReservedPath, ParseReserved(*reserved, &p.reserved_)));
  }
  p.reserved_status_ = reserved.status();
  return p;
}

bool EphemeralPorts::IsReserved(uint32_t port) const {
  return std::any_of(reserved_.begin(), reserved_.end(),
                     [port](const auto& r) { return port >= r.first && port <= r.second; });
}

std::string EphemeralPorts::RangeText() const { return absl::StrCat(first_, "-", last_); }

std::string EphemeralPorts::ReservedText() const {
  return absl::StrJoin(reserved_, ",", [](std::string* out, const auto& r) {
    absl::StrAppend(out, r.first);
    if (r.second != r.first) absl::StrAppend(out, "-", r.second);
  });
}

std::string EphemeralPorts::ReserveCommand(const std::vector<uint32_t>& ports) const {
  std::string list = ReservedText();
  for (const uint32_t port : ports) absl::StrAppend(&list, list.empty() ? "" : ",", port);
  return absl::StrCat("sysctl -w net.ipv4.ip_local_reserved_ports=", list);
}

}  // namespace sipring::transports
