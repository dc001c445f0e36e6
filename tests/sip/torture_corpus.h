// File: tests/sip/torture_corpus.h
//
// Test helper: reads the RFC 4475 / RFC 5118 torture corpus (shared/sip-torture) and its
// MANIFEST.tsv. Test-only; allocates freely. Single-threaded use.
//
// Example:
//   for (const TortureEntry& e : ReadTortureManifest()) {
//     std::string bytes = ReadTortureFile(e.file);
//   }
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sipring::sip::testing {

struct TortureEntry {
  std::string file;      // e.g. "wsinv.dat"
  std::string rfc;       // "4475" or "5118"
  std::string section;   // "3.1.1.1"
  std::string expected;  // "valid", "invalid" or "valid-but-semantic-error"
  std::string note;
};

// $SIPRING_SOURCE_DIR/../shared/sip-torture/ (set by ctest), else relative to this file.
inline std::string TortureDir() {
  if (const char* root = std::getenv("SIPRING_SOURCE_DIR"); root != nullptr && *root != '\0') {
    return std::string(root) + "/../shared/sip-torture/";
  }
  std::string here = __FILE__;  // <repo>/tests/sip/torture_corpus.h
  return here.substr(0, here.rfind('/')) + "/../../../shared/sip-torture/";
}

inline std::string ReadTortureFile(const std::string& file) {
  std::ifstream in(TortureDir() + file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::vector<TortureEntry> ReadTortureManifest() {
  std::vector<TortureEntry> entries;
  std::ifstream in(TortureDir() + "MANIFEST.tsv");
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> cols;
    size_t start = 0;
    while (true) {
      const size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() < 5) continue;
    entries.push_back({cols[0], cols[1], cols[2], cols[3], cols[4]});
  }
  return entries;
}

}  // namespace sipring::sip::testing
