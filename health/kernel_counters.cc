#include "health/kernel_counters.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/status.h"
#include "transports/socket_options.h"

namespace sipring::health {
namespace {

// In `text` (a netstat/snmp file), the value of `section`'s `column`: the file holds pairs of a
// header line of names and a line of values, each starting "Section:".
absl::Status FindValue(std::string_view path, std::string_view text, std::string_view section,
                       std::string_view column, uint64_t* out) {
  const std::string prefix = absl::StrCat(ToAbsl(section), ":");
  const std::vector<absl::string_view> lines = absl::StrSplit(ToAbsl(text), '\n');
  for (size_t l = 0; l + 1 < lines.size(); ++l) {
    if (!absl::StartsWith(lines[l], prefix)) continue;
    const std::vector<absl::string_view> names = absl::StrSplit(lines[l], ' ', absl::SkipEmpty());
    const std::vector<absl::string_view> values =
        absl::StrSplit(lines[l + 1], ' ', absl::SkipEmpty());
    for (size_t i = 1; i < names.size() && i < values.size(); ++i) {
      if (names[i] != ToAbsl(column)) continue;
      if (!absl::SimpleAtoi(values[i], out)) {
        return absl::InvalidArgumentError(absl::StrCat(ToAbsl(path), ": ", prefix, ToAbsl(column),
                                                       " is not a number (got \"", values[i], "\")"));
      }
      return absl::OkStatus();
    }
    return absl::NotFoundError(absl::StrCat(ToAbsl(path), ": no counter ", prefix, ToAbsl(column)));
  }
  return absl::NotFoundError(absl::StrCat(ToAbsl(path), ": no ", prefix, " lines"));
}

}  // namespace

absl::StatusOr<KernelCounters> ReadKernelCounters(const std::string& proc_root) {
  KernelCounters k;
  std::string_view file;
  std::string text;
  for (const KernelCounterInfo& c : kKernelCounters) {
    if (c.file != file) {  // the list keeps each file's counters together: one read per file
      file = c.file;
      SIPRING_ASSIGN_OR_RETURN(text, transports::ReadProcFile(proc_root, file));
    }
    SIPRING_RETURN_IF_ERROR(
        FindValue(absl::StrCat(proc_root, "/", ToAbsl(file)), text, c.section, c.column, &(k.*c.field)));
  }
  return k;
}

}  // namespace sipring::health
